"""The Debian package: built by deploy/build-deb.sh, checked by lintian,
installed on this machine with dpkg, inspected, and purged again, always.

A vmq package installed before the test is left alone: the test fails,
saying so, rather than replace or remove it.
"""
import fnmatch
import glob
import grp
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from vmqlab import SOURCE_DIR, require_root, run

BUILD_DEB = os.path.join(SOURCE_DIR, "deploy", "build-deb.sh")
MAX_EXPOSURE = 3.0
BUILD_TIMEOUT = 780  # of ctest's 900 s for this module; ccache makes a rebuild far quicker

# Where Debian wants each piece (the unit: wherever dh put it, checked below).
EXPECTED_FILES = [
    "/usr/sbin/vmqd",
    "/usr/bin/vmqctl",
    "/usr/lib/sysusers.d/vmq.conf",
    "/etc/vmq/vmqd.toml",
    "/usr/share/man/man8/vmqd.8.gz",
    "/usr/share/man/man8/vmqctl.8.gz",
    "/usr/share/bash-completion/completions/vmqctl",
    "/etc/libvirt/hooks/qemu.d/vmq",
    "/usr/share/doc/vmq/copyright",
    "/usr/share/doc/vmq/README.Debian",
]
UNIT_PATHS = ["/lib/systemd/system/vmqd.service", "/usr/lib/systemd/system/vmqd.service"]


def package_status():
    """dpkg's status of the vmq package, or None when dpkg does not know it."""
    result = run(["dpkg-query", "-W", "-f=${db:Status-Status}", "vmq"], check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def dpkg_excludes(path):
    """Whether dpkg's path-exclude settings (as in Debian's container images,
    which drop manual pages) keep the path from being installed."""
    excluded = False
    for config in sorted(glob.glob("/etc/dpkg/dpkg.cfg.d/*")):
        with open(config) as f:
            for line in f:
                option = re.match(r"\s*(path-exclude|path-include)[\s=]+(\S+)", line)
                if option and fnmatch.fnmatch(path, option.group(2)):
                    excluded = option.group(1) == "path-exclude"
    return excluded


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


@require_root
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        status = package_status()
        if status not in (None, "not-installed"):
            raise AssertionError("a vmq package is already on this machine (dpkg status '%s'): the test will not "
                                 "replace or remove it; purge it first (dpkg --purge vmq)" % status)
        for tool in ("dpkg-buildpackage", "dh", "lintian"):
            if not shutil.which(tool):
                raise AssertionError("%s is missing: apt-get install dpkg-dev debhelper lintian" % tool)
        cls.group_existed = group_exists("vmq")
        cls.outdir = tempfile.mkdtemp(prefix="vmq-deb-")
        try:
            cls.build = run([BUILD_DEB, cls.outdir], check=False, timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            shutil.rmtree(cls.outdir)
            raise
        debs = glob.glob(os.path.join(cls.outdir, "vmq_*_amd64.deb"))
        cls.deb = debs[0] if len(debs) == 1 else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.outdir, ignore_errors=True)

    def test_builds_and_lintian_reports_no_errors(self):
        self.assertEqual(self.build.returncode, 0, self.build.stdout + self.build.stderr)
        self.assertIsNotNone(self.deb, os.listdir(self.outdir))
        with open(os.path.join(self.outdir, "lintian.txt")) as f:
            lintian = f.read()
        self.assertNotRegex(lintian, r"(?m)^E: ", lintian)

    def test_installs_where_debian_wants_it_and_purges_clean(self):
        self.assertIsNotNone(self.deb, "no package was built:\n" + self.build.stdout + self.build.stderr)
        version = run(["dpkg-deb", "-f", self.deb, "Version"]).stdout.strip()
        try:
            run(["dpkg", "-i", self.deb], timeout=120)
            listed = self.check_installed(version)
        finally:
            purge = run(["dpkg", "--purge", "vmq"], check=False, timeout=120)
            if not self.group_existed and group_exists("vmq"):
                run(["groupdel", "vmq"], check=False)
        self.assertEqual(purge.returncode, 0, purge.stdout + purge.stderr)
        self.assertIn(package_status(), (None, "not-installed"))
        left = [p for p in listed if os.path.lexists(p) and not os.path.isdir(p)]
        self.assertEqual(left, [], "purge left files of the package behind")
        for path in ("/etc/vmq", "/var/lib/vmq", "/usr/libexec/vmq"):
            self.assertFalse(os.path.lexists(path), "%s is left after purge" % path)

    def check_installed(self, version):
        """Checks the installed package; returns the paths dpkg lists for it."""
        self.assertEqual(package_status(), "installed")
        listed = run(["dpkg", "-L", "vmq"]).stdout.split()
        for path in EXPECTED_FILES:
            self.assertIn(path, listed)
        for path in listed:
            if not dpkg_excludes(path):
                self.assertTrue(os.path.lexists(path), "dpkg lists %s, which is not there" % path)
        units = [p for p in UNIT_PATHS if p in listed]
        self.assertEqual(len(units), 1, "the unit is not in a systemd unit directory: %s" % listed)
        unit = units[0]

        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "vmq"]).stdout
        self.assertRegex(conffiles, r"(?m)^ /etc/vmq/vmqd\.toml [0-9a-f]{32}$")
        self.assertTrue(group_exists("vmq"), "installing did not create the vmq group")

        hook = "/etc/libvirt/hooks/qemu.d/vmq"
        self.assertTrue(os.access(os.path.realpath(hook), os.X_OK), "%s does not lead to a program" % hook)

        # Installed disabled and stopped (README.Debian says why).
        self.assertEqual(glob.glob("/etc/systemd/system/*.wants/vmqd.service"), [])
        verify = run(["systemd-analyze", "verify", "--man=no", unit], check=False)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        self.assertNotIn("vmqd.service", verify.stderr, verify.stderr)
        security = run(["systemd-analyze", "security", "--offline=yes", unit]).stdout
        score = float(re.search(r"Overall exposure level for vmqd\.service: ([0-9.]+)", security).group(1))
        self.assertLessEqual(score, MAX_EXPOSURE, security)

        self.assertEqual(run(["/usr/sbin/vmqd", "--version"]).stdout.strip(), "vmqd " + version.split("-")[0])
        self.assertIn("configuration is valid", run(["/usr/sbin/vmqd", "--check-config"]).stdout)
        self.assertIn("queue", run(["/usr/bin/vmqctl", "--help"]).stdout)
        if shutil.which("man") and not dpkg_excludes("/usr/share/man/man8/vmqd.8.gz"):
            self.assertEqual(run(["man", "-w", "vmqd"]).stdout.strip(), "/usr/share/man/man8/vmqd.8.gz")
        return listed


if __name__ == "__main__":
    unittest.main()
