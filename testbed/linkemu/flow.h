/* flow: a flow identity for an Ethernet frame, so each TCP/UDP connection gets its own
 * fair share of an emulated link. */
#ifndef ARAS_LINKEMU_FLOW_H
#define ARAS_LINKEMU_FLOW_H

#include <stddef.h>
#include <stdint.h>

/* Hash of the frame's 5-tuple (IPv4 or IPv6 with TCP, UDP or SCTP ports; other IP
 * protocols: addresses and protocol; non-IP: EtherType and MAC addresses). Direction
 * matters (a->b and b->a hash differently); equal tuples always hash equally. Reads
 * only the first len bytes of frame; truncated headers fall back to what is there. */
uint32_t flow_hash(const unsigned char *frame, size_t len);

#endif
