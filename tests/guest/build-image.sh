#!/usr/bin/env bash
# Builds the integration tests' guest (tests/integration/test_guest.py): Debian's
# kernel and an initramfs with busybox, /init (tests/guest/init), the virtio-net
# driver's modules and guest-agent (tests/guest/guest-agent.c, built static).
# Nothing is installed on the host: the packages are fetched with
# `apt-get download` and unpacked with dpkg-deb into a scratch directory.
#
#   build-image.sh [--cache DIR]     prints the directory holding kernel and initramfs.gz
#
# `kernel` is the plain ELF vmlinux unpacked from Debian's bzImage, which QEMU
# boots through its PVH entry: under TCG this skips the half minute the
# kernel's own xz decompressor takes (a kernel without CONFIG_PVH is kept as
# its bzImage). The result is cached in DIR/KEY, KEY a hash of every input
# (the packages' names and versions, this script, init, guest-agent.c, the
# compiler and C library): a second run with the same inputs only prints the
# directory. DIR is --cache, else $VMQ_GUEST_CACHE, else
# $VMQ_BUILD_DIR/guest-image, else build/guest-image in the source tree; older
# entries in DIR are removed after a build. Needs gcc with the static C library
# (build-essential), cpio, xz, apt-get and the Debian archive. Environment:
#   VMQ_GUEST_KERNEL   the kernel package (default: what linux-image-amd64 depends on)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${VMQ_GUEST_CACHE:-${VMQ_BUILD_DIR:-$src/build}/guest-image}
while (($#)); do
  case $1 in
    --cache) cache=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
done

# The modules the guest needs beyond Debian's built-ins (virtio, virtio-pci and
# virtio-net are modules there); their dependencies are added from each module's
# own "depends=" field, and /init loads them in that order.
root_modules=(virtio_pci virtio_net)

log() { echo "build-image: $*" >&2; }
die() { log "$*"; exit 1; }
step() { log "$* ($((SECONDS - started)) s)"; }

candidate() {  # the version apt would install, or nothing
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2; exit}'
}

resolve() {  # sets kernel_pkg, kernel_ver, busybox_ver from apt's lists
  kernel_pkg=${VMQ_GUEST_KERNEL:-$(apt-cache depends --important linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')}
  kernel_ver=''
  if [[ -n $kernel_pkg ]]; then kernel_ver=$(candidate "$kernel_pkg"); fi
  busybox_ver=$(candidate busybox-static)
}

lists_stamp() {  # changes whenever apt's package lists (and so the versions apt picks) may have
  { stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* 2>/dev/null; echo "${VMQ_GUEST_KERNEL:-}"; } |
    sha256sum | cut -c1-16
}

# apt-cache parses every list on each call here (Debian's images keep no
# pkgcache), seconds on a busy machine: the versions it found are kept beside
# the images for as long as the lists are unchanged.
resolved="$cache/.resolved"
stamp=$(lists_stamp)
kernel_pkg='' kernel_ver='' busybox_ver=''
if [[ -f $resolved ]]; then
  read -r saved_stamp kernel_pkg kernel_ver busybox_ver <"$resolved" || true
  [[ ${saved_stamp:-} == "$stamp" ]] || kernel_pkg='' kernel_ver='' busybox_ver=''
fi
if [[ -z $kernel_pkg || -z $kernel_ver || -z $busybox_ver ]]; then
  resolve
  if [[ -z $kernel_pkg || -z $kernel_ver || -z $busybox_ver ]]; then
    log "apt's package lists lack the kernel or busybox-static: apt-get update"
    apt-get update -qq >&2
    resolve
  fi
  if [[ -n $kernel_pkg && -n $kernel_ver && -n $busybox_ver ]]; then
    mkdir -p "$cache"
    echo "$(lists_stamp) $kernel_pkg $kernel_ver $busybox_ver" >"$resolved"
  fi
fi
[[ -n $kernel_pkg && -n $kernel_ver ]] || die "no kernel package found (linux-image-amd64's dependency)"
[[ -n $busybox_ver ]] || die "no busybox-static package found"
command -v gcc >/dev/null || die "gcc is missing (deploy/install-deps.sh installs build-essential)"
command -v cpio >/dev/null || die "cpio is missing (deploy/install-deps.sh installs it)"

libc_ver=$(dpkg-query -W -f='${Version}' libc6-dev 2>/dev/null || echo unknown)
key=$( {
  echo "$kernel_pkg=$kernel_ver busybox-static=$busybox_ver libc6-dev=$libc_ver ${root_modules[*]}"
  gcc --version | head -1
  cat "$here/build-image.sh" "$here/init" "$here/guest-agent.c"
} | sha256sum | cut -c1-16)
out="$cache/$key"

if [[ -f $out/kernel && -f $out/initramfs.gz ]]; then
  echo "$out"
  exit 0
fi

log "building the guest image $key ($kernel_pkg $kernel_ver, busybox-static $busybox_ver) in $cache"
started=$SECONDS
mkdir -p "$cache"
scratch=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

(cd "$scratch" && apt-get download -q -o APT::Sandbox::User=root "$kernel_pkg=$kernel_ver" \
  "busybox-static=$busybox_ver") >&2 || die "apt-get download failed"
step "downloaded"
dpkg-deb -x "$scratch"/busybox-static_*.deb "$scratch/busybox"
# Only the kernel and its modules' tree are unpacked from the kernel package.
mkdir "$scratch/kernel"
dpkg-deb --fsys-tarfile "$scratch/${kernel_pkg}_"*.deb |
  tar -x -C "$scratch/kernel" --wildcards --no-wildcards-match-slash './boot/vmlinuz-*' './boot/config-*' \
    ./lib/modules || die "cannot unpack $kernel_pkg"
vmlinuz=$(echo "$scratch"/kernel/boot/vmlinuz-*)
moddir=$(echo "$scratch"/kernel/lib/modules/*)
[[ -f $vmlinuz && -d $moddir/kernel ]] || die "no single vmlinuz and modules tree in $kernel_pkg"
step "unpacked"

# Under TCG, the kernel's own decompressor takes half a minute to unpack
# Debian's xz bzImage. A kernel with CONFIG_PVH boots from its plain ELF image
# instead (QEMU's -kernel takes it directly), so the build unpacks it once: the
# payload starts at the setup header's payload_offset (0x248), counted from the
# protected-mode code, which follows (setup_sects + 1) 512-byte sectors (0x1f1).
unpack_vmlinux() {
  local setup_sects payload_offset start magic
  setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$vmlinuz" | tr -d ' ')
  payload_offset=$(od -An -tu4 -j $((0x248)) -N4 "$vmlinuz" | tr -d ' ')
  start=$(((setup_sects + 1) * 512 + payload_offset))
  magic=$(od -An -tx1 -j "$start" -N4 "$vmlinuz" | tr -d ' ')
  # The decompressors stop at the stream's end: what follows (Debian's signature) is never read.
  case $magic in
    fd377a58) xz -dc --single-stream < <(tail -c +$((start + 1)) "$vmlinuz") ;;
    28b52ffd) zstd -dcq < <(tail -c +$((start + 1)) "$vmlinuz") ;;
    *) return 1 ;;
  esac
}
kernel_image=bzImage
if grep -qx 'CONFIG_PVH=y' "$scratch"/kernel/boot/config-* && unpack_vmlinux >"$scratch/vmlinux" &&
  [[ $(od -An -c -N4 "$scratch/vmlinux" | tr -d ' ') == 177ELF ]]; then
  kernel_image="ELF (PVH), unpacked from vmlinuz"
else
  log "booting the bzImage: the kernel has no CONFIG_PVH or its payload could not be unpacked (slow under TCG)"
  cp "$vmlinuz" "$scratch/vmlinux"
fi
release=$(basename "$moddir")

step "kernel image: $kernel_image"

rootfs="$scratch/rootfs"
mkdir -p "$rootfs"/{bin,sbin,dev,proc,sys,tmp,lib/modules}
cp "$scratch/busybox/bin/busybox" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"   # /init installs the other applets' links
install -m 0755 "$here/init" "$rootfs/init"
gcc -static -O2 -Wall -Wextra -o "$rootfs/bin/guest-agent" "$here/guest-agent.c"
strip "$rootfs/bin/guest-agent"

# Modules: each one's path by name ('-' and '_' are the same to the kernel),
# then the dependency closure of root_modules, dependencies first.
declare -A path_of=() loaded=()
while read -r name path; do
  name=${name%.ko}
  path_of[${name//-/_}]=$path
done < <(find "$moddir/kernel" -name '*.ko' -printf '%f %p\n')
order=()
add_module() {
  local name=${1//-/_} dep
  [[ -n ${loaded[$name]:-} ]] && return 0
  [[ -n ${path_of[$name]:-} ]] || die "module $name is not in $kernel_pkg"
  loaded[$name]=1
  for dep in $(tr '\0' '\n' <"${path_of[$name]}" | sed -n '/^depends=/{s///p;q}' | tr ',' ' '); do
    add_module "$dep"
  done
  order+=("$name")
  cp "${path_of[$name]}" "$rootfs/lib/modules/$name.ko"
}
for m in "${root_modules[@]}"; do add_module "$m"; done
printf '%s\n' "${order[@]}" >"$rootfs/lib/modules/load-order"

result="$scratch/result"
mkdir "$result"
mv "$scratch/vmlinux" "$result/kernel"
(cd "$rootfs" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$result/initramfs.gz"
cat >"$result/manifest" <<EOF
key $key
kernel $kernel_pkg $kernel_ver ($release): $kernel_image
busybox-static $busybox_ver
modules ${order[*]}
built $(date -u +%FT%TZ) in $((SECONDS - started)) s
EOF

# Publish in one rename; another build that won the race is as good as ours.
mv -T "$result" "$out" 2>/dev/null || [[ -f $out/initramfs.gz ]] || die "cannot create $out"
for old in "$cache"/*; do
  [[ $old == "$out" || ! -d $old ]] || rm -rf "$old"
done
log "built in $((SECONDS - started)) s: $(tr '\n' ';' <"$out/manifest")"
echo "$out"
