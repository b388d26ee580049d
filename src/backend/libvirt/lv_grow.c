/* lv_grow: growth in place — live vCPU changes, a new disk image attached
 * live (memory is in lv_mem.c) — and starting a dirty-rate measurement. */
#include "backend/libvirt/lv.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int lv_set_vcpus(struct backend *b, const char *vm, unsigned vcpus)
{
    struct lv_host *h;
    virDomainPtr d = lv_domain_find(lv_of(b), vm, &h);
    if (!d)
        return -1;
    int rc = 0;
    if (vcpus == 0 || virDomainSetVcpusFlags(d, vcpus, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        if (vcpus == 0)
            rc = err_set("%s: VM '%s': cannot set 0 vCPUs", h->uri, vm);
        else
            rc = lv_err(h, vm, "setting vCPUs live");
    }
    virDomainFree(d);
    return rc;
}

/* The first of vda..vdz not yet used in the domain's XML. */
static int lv_next_target(struct lv_host *h, virDomainPtr d, const char *vm, char *out,
                          size_t out_size)
{
    char *xml = virDomainGetXMLDesc(d, 0);
    if (!xml)
        return lv_err(h, vm, "reading domain XML");
    char names[64][32];
    size_t n = lv_xml_targets(xml, "disk", names, ARRAY_LEN(names));
    free(xml);
    for (char c = 'a'; c <= 'z'; c++) {
        snprintf(out, out_size, "vd%c", c);
        bool used = false;
        for (size_t i = 0; i < n; i++)
            used = used || strcmp(names[i], out) == 0;
        if (!used)
            return 0;
    }
    return err_set("%s: VM '%s': no free virtio disk target (vda..vdz all used)", h->uri, vm);
}

/* A new sparse raw image; fails if the file exists (never reuse a disk). */
static int lv_create_image(const char *path, uint64_t size_bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set_errno("cannot create disk image '%s'", path);
    if (ftruncate(fd, (off_t)size_bytes) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        return err_set_errno("cannot size disk image '%s' to %llu bytes", path,
                             (unsigned long long)size_bytes);
    }
    if (close(fd) < 0) {
        unlink(path);
        return err_set_errno("cannot write disk image '%s'", path);
    }
    return 0;
}

static int lv_attach_image(struct lv_host *h, virDomainPtr d, const char *vm, const char *path,
                           const char *target)
{
    AUTOFREE char *esc = lv_xml_escape(path);
    AUTOFREE char *xml = xasprintf("<disk type='file' device='disk'>"
                                   "<driver name='qemu' type='raw'/>"
                                   "<source file='%s'/>"
                                   "<target dev='%s' bus='virtio'/>"
                                   "</disk>",
                                   esc, target);
    if (virDomainAttachDeviceFlags(d, xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
        return lv_err(h, vm, "attaching a disk live");
    return 0;
}

/* The target <path> of a storage pool's XML, copied to out; false if none. */
static bool lv_pool_path(const char *xml, char *out, size_t out_size)
{
    const char *t = strstr(xml, "<target>");
    const char *p = t ? strstr(t, "<path>") : NULL;
    const char *e = p ? strstr(p, "</path>") : NULL;
    if (!e || (size_t)(e - p - 6) >= out_size)
        return false;
    memcpy(out, p + 6, (size_t)(e - p - 6));
    out[e - p - 6] = '\0';
    return true;
}

/* The active storage pool on h whose target path is dir, or NULL. */
static virStoragePoolPtr lv_pool_for_dir(virConnectPtr c, const char *dir)
{
    virStoragePoolPtr *pools = NULL, found = NULL;
    int n = virConnectListAllStoragePools(c, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
    for (int i = 0; i < n; i++) {
        char *xml = found ? NULL : virStoragePoolGetXMLDesc(pools[i], 0);
        char path[MODEL_URI_MAX];
        if (xml && lv_pool_path(xml, path, sizeof(path)) && strcmp(path, dir) == 0)
            found = pools[i];
        else
            virStoragePoolFree(pools[i]);
        free(xml);
    }
    free(pools);
    virResetLastError();
    return found;
}

/* A new sparse raw volume in the host's pool for dir; its path in *path_out. */
static virStorageVolPtr lv_create_volume(struct lv_host *h, virStoragePoolPtr pool, const char *vm,
                                         const char *file, uint64_t size_bytes, char **path_out)
{
    AUTOFREE char *esc = lv_xml_escape(file);
    AUTOFREE char *xml = xasprintf("<volume><name>%s</name>"
                                   "<capacity unit='bytes'>%llu</capacity>"
                                   "<allocation unit='bytes'>0</allocation>"
                                   "<target><format type='raw'/></target></volume>",
                                   esc, (unsigned long long)size_bytes);
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
    if (!vol) {
        lv_err(h, vm, "creating a disk volume");
        return NULL;
    }
    *path_out = virStorageVolGetPath(vol);
    if (!*path_out) {
        lv_err(h, vm, "reading the new volume's path");
        if (virStorageVolDelete(vol, 0) < 0)
            virResetLastError();
        virStorageVolFree(vol);
        return NULL;
    }
    return vol;
}

/* Create the image where the host sees pool_dir: through the host's storage
 * pool for that directory if it has one (the only way for a remote host),
 * else as a local file (local URIs only). */
static int lv_attach_new(struct lv_host *h, virDomainPtr d, const char *vm, const char *target,
                         uint64_t size_bytes, const char *pool_dir)
{
    AUTOFREE char *file = xasprintf("%s-%s.raw", vm, target);
    virConnectPtr c = virDomainGetConnect(d);
    virStoragePoolPtr pool = lv_pool_for_dir(c, pool_dir);
    char remote[MODEL_NAME_MAX];
    int rc;
    if (pool) {
        char *path = NULL;
        virStorageVolPtr vol = lv_create_volume(h, pool, vm, file, size_bytes, &path);
        rc = vol ? lv_attach_image(h, d, vm, path, target) : -1;
        if (vol && rc < 0 && virStorageVolDelete(vol, 0) < 0) /* unused: remove it */
            virResetLastError();
        if (vol)
            virStorageVolFree(vol);
        free(path);
        virStoragePoolFree(pool);
        return rc;
    }
    if (lv_uri_host(h->uri, remote, sizeof(remote)) < 0 || remote[0])
        return err_set("%s: VM '%s': no active storage pool with target path '%s' on host '%s'; "
                       "define one (a 'dir' pool) to attach disks there",
                       h->uri, vm, pool_dir, h->name);
    AUTOFREE char *path = xasprintf("%s/%s", pool_dir, file);
    if (lv_create_image(path, size_bytes) < 0)
        return err_prefix("%s: VM '%s'", h->uri, vm);
    rc = lv_attach_image(h, d, vm, path, target);
    if (rc < 0)
        unlink(path); /* ours, unused: do not leave it behind */
    return rc;
}

int lv_attach_disk(struct backend *b, const char *vm, uint64_t size_bytes, const char *pool_dir)
{
    if (size_bytes == 0 || size_bytes > (uint64_t)INT64_MAX)
        return err_set("VM '%s': disk size %llu bytes is out of range", vm,
                       (unsigned long long)size_bytes);
    /* The VM name becomes part of a file name. */
    if (strchr(vm, '/') || vm[0] == '.' || vm[0] == '\0')
        return err_set("VM '%s': name not usable in a disk image file name", vm);
    if (pool_dir[0] != '/')
        return err_set("VM '%s': pool directory '%s' is not an absolute path", vm, pool_dir);
    struct lv_host *h;
    virDomainPtr d = lv_domain_find(lv_of(b), vm, &h);
    if (!d)
        return -1;
    char target[32];
    int rc = lv_next_target(h, d, vm, target, sizeof(target));
    if (rc == 0)
        rc = lv_attach_new(h, d, vm, target, size_bytes, pool_dir);
    virDomainFree(d);
    return rc;
}

int lv_dirty_rate_start(struct backend *b, const char *vm, int calc_s)
{
    if (calc_s < 1 || calc_s > 60)
        return err_set("VM '%s': dirty-rate period %d s is out of range (1..60)", vm, calc_s);
    struct lv_host *h;
    virDomainPtr d = lv_domain_find(lv_of(b), vm, &h);
    if (!d)
        return -1;
    int rc = 0;
    if (virDomainStartDirtyRateCalc(d, calc_s, 0) < 0)
        rc = lv_err(h, vm, "starting a dirty-rate measurement");
    virDomainFree(d);
    return rc;
}
