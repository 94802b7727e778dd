#!/usr/bin/env bash
# The collection as users get it from Galaxy: build the tarball, check that build output, the virtual
# environment and the lab's state stayed out of it, install it into an empty collections path, run the
# unit tests of the installed copy and one lab playbook against it, and check the execution environment:
# `ansible-builder create` on meta/ee/execution-environment.yml (the build context; no container engine
# needed) and ansible-builder's introspection of the installed copy (what the image build would install).
# Usage: tools/galaxy-check.sh [--no-lab]   (the lab playbook needs the lab's network namespace)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tools/venv.sh"
with_lab=yes
[ "${1:-}" = "--no-lab" ] && with_lab=no
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$("$venv_python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")
tarball="$work/dist/clustersafe-deep_security-$version.tar.gz"

echo "--- build"
(cd "$root" && ansible-galaxy collection build --force --output-path "$work/dist" . >/dev/null)
listing=$(tar -tzf "$tarball")
leaked=$(grep -E '(^|/)(\.venv[^/]*|build|\.lab|\.hypothesis|\.pytest_cache|__pycache__|\.ci|tools)/|^tests/output/|^tests/lab/\.build/|\.pyc$|\.tar\.gz$' <<<"$listing" || true)
if [ -n "$leaked" ]; then
  echo "build_ignore lets these into the tarball:" >&2
  head -20 <<<"$leaked" >&2
  exit 1
fi
for expected in MANIFEST.json meta/runtime.yml meta/execution-environment.yml meta/ee-requirements.txt \
                meta/ee-bindep.txt plugins/module_utils/query.py roles/wsfc_agent_rollout/tasks/main.yml; do
  grep -qx -- "$expected" <<<"$listing" || { echo "$expected is missing from the tarball" >&2; exit 1; }
done
echo "$(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) KB"

echo "--- install into an empty collections path"
ANSIBLE_COLLECTIONS_PATH="$work/collections" ansible-galaxy collection install --offline --no-deps -p "$work/collections" "$tarball" >/dev/null
installed="$work/collections/ansible_collections/clustersafe/deep_security"
[ -f "$installed/MANIFEST.json" ] || { echo "not installed at $installed" >&2; exit 1; }

echo "--- unit tests of the installed copy"
(cd "$installed" && ANSIBLE_COLLECTIONS_PATH="$work/collections" "$venv_python" -m pytest -q -p no:cacheprovider \
  --rootdir "$installed" tests/unit | tail -1)

if [ "$with_lab" = yes ]; then
  echo "--- a lab playbook against the installed copy"
  (cd "$root" && CLUSTERSAFE_COLLECTIONS_PATH="$work/collections" "$venv_python" -m pytest -q \
    tests/integration/test_playbooks.py -k info_query | tail -1)
fi

echo "--- execution environment"
context="$work/ee"
cp -r "$root/meta/ee" "$context"
cp "$tarball" "$context/"
sed -i "s/clustersafe-deep_security-[0-9][^ ]*\.tar\.gz/clustersafe-deep_security-$version.tar.gz/" "$context/requirements.yml"
(cd "$context" && ansible-builder create -f execution-environment.yml -c build-context --output-filename Containerfile >/dev/null)
"$venv_python" - "$context/build-context" "$version" <<'PY'
import os, sys, yaml
context, version = sys.argv[1], sys.argv[2]
containerfile = open(os.path.join(context, "Containerfile")).read()
for needle in ("ansible-galaxy collection install", "introspect.py introspect", "assemble", "ansible-core>=2.16",
               "ansible-runner>=2.3", "quay.io/ansible/awx-ee"):
    assert needle in containerfile, "the Containerfile lacks %r" % needle
requirements = yaml.safe_load(open(os.path.join(context, "_build", "requirements.yml")))
name = requirements["collections"][0]["name"]
assert os.path.exists(os.path.join(context, "_build", name)), "%s is not in the build context" % name
assert name.endswith(version + ".tar.gz"), name
print("build context: Containerfile, requirements.yml, %s" % os.path.basename(name))
PY
ansible-builder introspect --sanitize "$work/collections" > "$work/introspect.yml"
"$venv_python" - "$work/introspect.yml" <<'PY'
import sys, yaml
found = yaml.safe_load(open(sys.argv[1]))
python = " ".join(found["python"]) if isinstance(found["python"], list) else str(found["python"])
system = " ".join(found["system"]) if isinstance(found["system"], list) else str(found["system"])
for needle in ("pyvmomi", "pywinrm[kerberos,credssp]", "jmespath"):
    assert needle in python, "introspection misses %s: %s" % (needle, python)
for needle in ("krb5-workstation [platform:rpm]", "krb5-devel [compile platform:rpm]", "gcc [compile]"):
    assert needle in system, "introspection misses %s: %s" % (needle, system)
print("introspection: %d Python and %d system requirements from meta/execution-environment.yml"
      % (len(found["python"]), len(found["system"])))
PY
