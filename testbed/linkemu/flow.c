/* flow: 5-tuple hashing of Ethernet frames (FNV-1a over the identifying fields). */
#include "flow.h"

#include <string.h>

#define ETH_HDR_BYTES    14
#define ETHERTYPE_VLAN   0x8100
#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd
#define IPPROTO_TCP_NUM  6
#define IPPROTO_UDP_NUM  17
#define IPPROTO_SCTP_NUM 132

static uint32_t fnv1a(uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static int has_ports(unsigned proto)
{
    return proto == IPPROTO_TCP_NUM || proto == IPPROTO_UDP_NUM || proto == IPPROTO_SCTP_NUM;
}

/* Hash addresses (addr_off, addr_len), protocol and, if present, the two ports at l4. */
static uint32_t hash_ip(const unsigned char *ip, size_t len, size_t addr_off, size_t addr_len,
                        unsigned proto, size_t l4)
{
    uint32_t h = 2166136261u;
    unsigned char p = (unsigned char)proto;

    h = fnv1a(h, ip + addr_off, addr_len);
    h = fnv1a(h, &p, 1);
    if (has_ports(proto) && l4 + 4 <= len)
        h = fnv1a(h, ip + l4, 4);
    return h;
}

uint32_t flow_hash(const unsigned char *frame, size_t len)
{
    size_t off = 12;
    unsigned type;

    if (len < ETH_HDR_BYTES)
        return fnv1a(2166136261u, frame, len);
    type = (unsigned)frame[off] << 8 | frame[off + 1];
    if (type == ETHERTYPE_VLAN && len >= ETH_HDR_BYTES + 4) {
        off += 4;
        type = (unsigned)frame[off] << 8 | frame[off + 1];
    }
    off += 2;
    const unsigned char *ip = frame + off;
    size_t iplen = len - off;

    if (type == ETHERTYPE_IPV4 && iplen >= 20 && (ip[0] >> 4) == 4) {
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
        int fragment = ((ip[6] & 0x1f) | ip[7]) != 0; /* later fragments carry no ports */
        return hash_ip(ip, iplen, 12, 8, fragment ? 0 : ip[9], ihl);
    }
    if (type == ETHERTYPE_IPV6 && iplen >= 40 && (ip[0] >> 4) == 6)
        return hash_ip(ip, iplen, 8, 32, ip[6], 40);
    /* ARP and everything else: one flow per EtherType and MAC pair. */
    return fnv1a(2166136261u, frame, off);
}
