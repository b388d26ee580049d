/* tap: TAP devices in any network namespace, via setns() around the open. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/error.h"
#include "util/mem.h"

/* Open /dev/net/tun and attach it to TAP ifname in the current namespace. */
static int tap_attach(const char *ifname, const char *spec)
{
    struct ifreq ifr;
    int fd;

    if (strlen(ifname) == 0 || strlen(ifname) >= IFNAMSIZ)
        return err_set("tap '%s': interface name must be 1..%d characters", spec, IFNAMSIZ - 1);
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return err_set_errno("tap '%s': open /dev/net/tun", spec);
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        err_set_errno("tap '%s': TUNSETIFF", spec);
        close(fd);
        return -1;
    }
    return fd;
}

int tap_open(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    AUTOFREE char *nspath = NULL;
    int self_ns, target_ns, fd, saved;

    if (!colon)
        return tap_attach(spec, spec);
    nspath = xstrndup(spec, (size_t)(colon - spec));
    self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self_ns < 0)
        return err_set_errno("tap '%s': open /proc/self/ns/net", spec);
    target_ns = open(nspath, O_RDONLY | O_CLOEXEC);
    if (target_ns < 0) {
        close(self_ns);
        return err_set_errno("tap '%s': open namespace %s", spec, nspath);
    }
    if (setns(target_ns, CLONE_NEWNET) < 0) {
        err_set_errno("tap '%s': setns %s", spec, nspath);
        close(self_ns);
        close(target_ns);
        return -1;
    }
    fd = tap_attach(colon + 1, spec);
    saved = errno;
    if (setns(self_ns, CLONE_NEWNET) < 0) {
        /* Cannot return to our own namespace: nothing later would be where it belongs. */
        err_set_errno("tap '%s': setns back to own namespace", spec);
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    close(self_ns);
    close(target_ns);
    errno = saved;
    return fd;
}
