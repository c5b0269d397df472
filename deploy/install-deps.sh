#!/usr/bin/env bash
# Installs everything vmq needs to build, test and run on Debian 12, quietly.
# Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang llvm
  libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
  libboost-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libfmt-dev libsystemd-dev
  libxml2-dev
  # vhost-user ports: DPDK's rte_vhost
  libdpdk-dev
  googletest libgtest-dev
  # the fuzz targets (deploy/fuzz.sh): libFuzzer, and a clang whose C++23 has std::expected
  clang-19 libclang-rt-19-dev
  # run and test
  xdp-tools iproute2 iputils-ping ethtool procps util-linux tmux python3 bash-completion
  # the guest test (tests/integration/test_guest.py): QEMU (its Depends bring SeaBIOS and the
  # PVH loader), cpio and xz for tests/guest/build-image.sh, which fetches the kernel and
  # busybox-static itself with apt-get download and installs neither
  qemu-system-x86 cpio xz-utils
  # the libvirt hook's test (tests/integration/test_libvirt.py) starts its own libvirtd
  libvirt-daemon-system libvirt-clients
  # the package test (tests/integration/test_package.py): dpkg-buildpackage, lintian;
  # the sandbox test (test_sandbox.py) loads the unit's syscall filter with python3-seccomp
  dpkg-dev debhelper lintian python3-seccomp
  # the vhost-user test (tests/integration/test_vhost_user.py): a real virtio driver as the
  # guest, dpdk-testpmd with DPDK's virtio-user PMD
  dpdk-dev
  # the metrics test (tests/integration/test_metrics.py) scrapes vmqd with its own Prometheus
  prometheus
  # the benchmark's peer (tests/bench/ovs_dpdk.py): Open vSwitch with DPDK
  openvswitch-switch-dpdk
)

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (it installs packages with apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
