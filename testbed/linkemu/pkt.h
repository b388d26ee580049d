/* pkt: one Ethernet frame in flight through linkemu, with the links that queue it. */
#ifndef ARAS_LINKEMU_PKT_H
#define ARAS_LINKEMU_PKT_H

#include <stddef.h>
#include <stdint.h>

/* Largest frame relayed: TAP without offloads delivers at most MTU + 14 bytes; 64 KiB
 * leaves room for any MTU a test sets. */
#define PKT_MAX_BYTES 65536

struct pkt {
    struct pkt *next; /* in a flow queue or in the delay line */
    int64_t due_ns;   /* delay line: when the frame leaves the link */
    uint32_t flow;    /* flow hash (see flow.h) */
    size_t len;       /* bytes in data */
    unsigned char data[];
};

/* A new packet holding a copy of len bytes (len <= PKT_MAX_BYTES). Free with free(). */
struct pkt *pkt_new(const void *data, size_t len);

#endif
