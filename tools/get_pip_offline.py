"""Stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test runs ``~/.ansible/test/cache/get_pip_<version>.py`` with pip options when it prepares a
sanity-test virtual environment. That download needs a host outside the package registries, so this
script does the same job offline: it bootstraps pip from the interpreter's own ``ensurepip`` and then
pip-installs whatever ansible-test asked for.
"""
import os
import subprocess
import sys

DROPPED_OPTIONS = {"--no-setuptools", "--no-wheel"}
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def main(argv):
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    options = [arg for arg in argv if arg not in DROPPED_OPTIONS]
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    if os.path.exists(CA_BUNDLE):
        command += ["--cert", CA_BUNDLE]
    subprocess.check_call(command + options)


if __name__ == "__main__":
    main(sys.argv[1:])
