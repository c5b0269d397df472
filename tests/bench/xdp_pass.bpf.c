// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Baseline of the classifier benchmark: an XDP program that does nothing.
 * Its time under BPF_PROG_TEST_RUN is the cost of the test loop and of
 * entering an XDP program; every other case is reported as a delta over it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
