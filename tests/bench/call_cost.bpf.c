// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What one call that the verifier does not inline costs on this machine
 * (return thunks of the CPU's speculation mitigations make it dear): the
 * classifier still makes two on a hit, bpf_xdp_get_buff_len() and
 * bpf_redirect_map(). Each program makes 16 dependent calls; its time over
 * xdp_pass, divided by 16, is the price of one call (call, body, return).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CALLS 16

/* The cheapest helper the classifier calls. */
SEC("xdp")
int helper_calls(struct xdp_md *ctx)
{
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < CALLS; i++)
		sum += bpf_xdp_get_buff_len(ctx);
	return sum == 1 ? XDP_DROP : XDP_PASS;
}

static __attribute__((noinline)) __u32 next_value(__u32 value)
{
	return value * 3 + 1;
}

/* A BPF-to-BPF call: no helper body, only the call and the return. */
SEC("xdp")
int subprog_calls(struct xdp_md *ctx)
{
	__u32 value = ctx->data_end - ctx->data;

#pragma unroll
	for (int i = 0; i < CALLS; i++)
		value = next_value(value);
	return value == 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
