/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * EXPERIMENT: map layouts of classify_variants.bpf.c that differ from
 * vmq/abi.h, shared with the benchmark that fills them.
 */
#ifndef VMQ_BENCH_EXP_LAYOUT_H
#define VMQ_BENCH_EXP_LAYOUT_H

#include <linux/types.h>

/* EXP_QUEUE_IN_FILTER: the filter value carries its queue's state and VLAN
 * mode; still 8 bytes, as vmq_filter_value (queue ids are below 4096). */
struct exp_filter_value {
	__u32 filter_id;
	__u16 queue_id;
	__u8 queue_state; /* enum vmq_queue_state */
	__u8 vlan_mode;   /* enum vmq_vlan_mode */
};

/* EXP_BUCKET_TABLE: 2^15 buckets of four 16-byte slots (one cache line).
 * A slot's key is the 8 bytes of vmq_filter_key read as one little-endian
 * word; a free slot holds EXP_FREE_SLOT, a broadcast key, which is never
 * looked up. A key lives in one of two buckets: the top EXP_BUCKET_BITS bits
 * of key * EXP_HASH_FIRST or of key * EXP_HASH_SECOND. At most 65,536 keys:
 * the table is at most half full. */
#define EXP_BUCKET_BITS 15
#define EXP_BUCKETS (1u << EXP_BUCKET_BITS)
#define EXP_BUCKET_SLOTS 4
#define EXP_FREE_SLOT 0xffffffffffffffffull
#define EXP_HASH_FIRST 0x9e3779b97f4a7c15ull
#define EXP_HASH_SECOND 0xc2b2ae3d27d4eb4full

#ifndef __cplusplus
#define exp_first_bucket(key) ((__u32)(((key) * EXP_HASH_FIRST) >> (64 - EXP_BUCKET_BITS)))
#define exp_second_bucket(key) ((__u32)(((key) * EXP_HASH_SECOND) >> (64 - EXP_BUCKET_BITS)))
#endif

#endif /* VMQ_BENCH_EXP_LAYOUT_H */
