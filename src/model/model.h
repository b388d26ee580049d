/* model: hosts, VMs and their samples — plain data shared by every module, no I/O.
 *
 * A backend fills a `struct inventory` each tick with what it sees (identity,
 * configuration and cumulative counters); the monitor turns consecutive
 * counters into rates (`struct vm_rates`, `struct host_rates`); policy reads
 * rates and inventory and returns decisions. Names are fixed-size so that the
 * structs can be copied freely without ownership questions.
 */
#ifndef ARAS_MODEL_MODEL_H
#define ARAS_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODEL_NAME_MAX 128
#define MODEL_URI_MAX  256
#define MODEL_UUID_LEN 37 /* 36 characters + NUL */

enum vm_state {
    VM_STATE_UNKNOWN,
    VM_STATE_RUNNING,
    VM_STATE_PAUSED,
    VM_STATE_SHUTOFF,
    VM_STATE_CRASHED,
    VM_STATE_MIGRATING,
};
const char *vm_state_str(enum vm_state s);

/* What kind of resource a VM's load mostly needs (see policy/ for the rule). */
enum load_class {
    LOAD_CLASS_IDLE,
    LOAD_CLASS_CPU,
    LOAD_CLASS_MEMORY,
    LOAD_CLASS_IO,
};
const char *load_class_str(enum load_class c);
int load_class_parse(const char *s, enum load_class *out);

/* Cumulative host counters as read from a backend at t_ms. */
struct host_counters {
    int64_t t_ms;          /* when read (clock_now_ms) */
    uint64_t cpu_busy_ns;  /* all CPUs, cumulative busy time */
    uint64_t cpu_total_ns; /* all CPUs, cumulative busy + idle time */
    uint64_t mem_total_kib;
    uint64_t mem_free_kib; /* instantaneous; free + reclaimable caches */
    uint64_t disk_io_ms;   /* cumulative time spent doing I/O, 0 if unknown */
    /* Storage space (libvirt: the active storage pools), both 0 if unknown. */
    uint64_t disk_capacity_bytes, disk_allocation_bytes;
    double power_w; /* instantaneous, 0 if the backend has no power model */
};

struct host {
    char name[MODEL_NAME_MAX];
    char uri[MODEL_URI_MAX]; /* connection URI (libvirt) or "" */
    unsigned cpus;
    double cpu_mips; /* per CPU; 0 when unknown (libvirt) */
    uint64_t mem_kib;
    double net_bytes_per_s; /* NIC capacity, 0 when unknown */
    bool up;                /* reachable (libvirt) / powered on (sim) */
    bool maintenance;
    struct host_counters counters;
};

/* Cumulative VM counters as read from a backend at t_ms. */
struct vm_counters {
    int64_t t_ms;
    uint64_t cpu_time_ns; /* all vCPUs, cumulative */
    uint64_t blk_rd_bytes, blk_wr_bytes, blk_rd_reqs, blk_wr_reqs;
    uint64_t net_rx_bytes, net_tx_bytes;
    uint64_t mem_actual_kib;    /* balloon size as the guest sees it */
    uint64_t mem_unused_kib;    /* guest-reported unused, 0 if unknown */
    uint64_t mem_available_kib; /* guest-reported usable, 0 if unknown */
    double dirty_rate_mib_s;    /* last dirty-rate sample, < 0 if unknown */
};

struct vm {
    char name[MODEL_NAME_MAX];
    char uuid[MODEL_UUID_LEN];
    char host[MODEL_NAME_MAX]; /* name of the host it runs on */
    enum vm_state state;
    unsigned vcpus, max_vcpus;
    uint64_t mem_kib, max_mem_kib;
    double vcpu_mips; /* per vCPU; 0 when unknown (libvirt) */
    unsigned disks;   /* attached disks */
    struct vm_counters counters;
};

/* Rates derived from two consecutive counter readings (monitor/). */
struct vm_rates {
    int64_t t_ms;
    double cpu_pct;      /* of the VM's vCPUs: 100 = all vCPUs busy */
    double mem_used_pct; /* guest-visible where the guest reports it, else -1 */
    double disk_rd_bytes_per_s, disk_wr_bytes_per_s, disk_iops;
    double net_rx_bytes_per_s, net_tx_bytes_per_s;
    double dirty_rate_mib_s; /* < 0 if unknown */
};

struct host_rates {
    int64_t t_ms;
    double cpu_pct; /* of all host CPUs */
    uint64_t mem_free_kib;
    double mem_used_pct;
    double disk_util_pct; /* disk busy time, else storage space in use (%); < 0 if unknown */
    double power_w;
};

/* Everything a backend saw at one poll. Owns its arrays. */
struct inventory {
    struct host *hosts;
    size_t n_hosts, cap_hosts;
    struct vm *vms;
    size_t n_vms, cap_vms;
};

void inventory_init(struct inventory *inv);
/* Forget all hosts and VMs but keep the allocations for the next poll. */
void inventory_clear(struct inventory *inv);
void inventory_free(struct inventory *inv);
/* Append a zeroed host/VM and return it; the pointer is valid until the next add. */
struct host *inventory_add_host(struct inventory *inv);
struct vm *inventory_add_vm(struct inventory *inv);
/* Linear lookups by name (NULL when absent). */
struct host *inventory_find_host(const struct inventory *inv, const char *name);
struct vm *inventory_find_vm(const struct inventory *inv, const char *name);

/* Copy a name into a fixed-size model field; returns -1 (err_set) if it does
 * not fit, so an over-long name from outside is an error, not a truncation. */
int model_name_set(char *dst, size_t dst_size, const char *src);

#endif
