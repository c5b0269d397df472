// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Another tool's XDP program, for the coexistence tests: it only passes frames. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int foreign_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
