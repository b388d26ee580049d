/* tap: open (creating if needed) a TAP device, optionally inside another network
 * namespace, for linkemu to relay frames through. */
#ifndef ARAS_LINKEMU_TAP_H
#define ARAS_LINKEMU_TAP_H

/* Open TAP device per spec "IFNAME" (this network namespace) or "NSPATH:IFNAME" (the
 * namespace at NSPATH, e.g. /proc/PID/ns/net; the calling thread returns to its own
 * namespace afterwards). The device exists as long as the returned non-blocking fd is
 * open (unless it was created persistent beforehand). Returns the fd, or -1 with
 * err_set() naming the spec. */
int tap_open(const char *spec);

#endif
