#!/usr/bin/env bash
# The collection's HTML documentation (an antsibull-docs collection docsite, from the modules', plugins'
# and roles' own docs) and its changelog (antsibull-changelog, from changelogs/fragments), both without
# warnings, and offline: the two labels of the Ansible documentation that the generated pages refer to
# come from a local intersphinx inventory instead of docs.ansible.com.
# Output: build/docs/html/index.html and build/docs/CHANGELOG.rst (or the directory given).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tools/venv.sh"
out=${1:-$root/build/docs}
collections=$(bash "$root/tools/collection-root.sh" link)
export ANSIBLE_COLLECTIONS_PATH="$collections"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
rm -rf "$out" && mkdir -p "$out"

echo "--- changelog"
(cd "$root" && antsibull-changelog lint)
version=$("$venv_python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")
mkdir -p "$work/changelog"
cp -r "$root/galaxy.yml" "$root/changelogs" "$work/changelog/"
# The summary a release manager writes; here it says what the preview is.
printf 'release_summary: Preview of the next release, generated from the changelog fragments.\n' \
  > "$work/changelog/changelogs/fragments/$version.yml"
# A release in a scratch copy: the fragments stay where they are.
(cd "$work/changelog" && antsibull-changelog release --is-collection --version "$version" --date "$(date -u +%F)" \
  && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml)
cp "$work/changelog/CHANGELOG.rst" "$out/CHANGELOG.rst"
grep -q "^v$version" "$out/CHANGELOG.rst" || { echo "CHANGELOG.rst has no section for $version" >&2; exit 1; }

echo "--- plugin and role docs"
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs=self \
  "$collections/ansible_collections/clustersafe/deep_security"

echo "--- docsite"
site="$work/site"
mkdir -m 700 "$site"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$site" --title "clustersafe.deep_security" \
  clustersafe.deep_security >/dev/null
"$venv_python" - "$site" <<'PY'
import os, sys, zlib
site = sys.argv[1]
# Labels of the Ansible documentation that antsibull-docs' pages use (":ref:" targets), with their pages.
labels = [
    ("common_return_values", "reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    ("ansible_configuration_settings", "reference_appendices/config.html#ansible-configuration-settings",
     "Ansible Configuration Settings"),
    ("action_plugins", "plugins/action.html#action-plugins", "Action plugins"),
]
body = "".join("%s std:label -1 %s %s\n" % entry for entry in labels)
with open(os.path.join(site, "ansible_devel.inv"), "wb") as handle:
    handle.write(b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
                 b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(body.encode()))
with open(os.path.join(site, "conf.py"), "a") as handle:
    handle.write("\n# Offline: only the local inventory of the Ansible documentation's labels.\n"
                 "intersphinx_mapping = {'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', "
                 "(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ansible_devel.inv'),))}\n")
PY
sed -i '1i import os' "$site/conf.py"
chmod 700 "$site/rst"
antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --cleanup everything --fail-on-error --use-current \
  --dest-dir "$site/rst" clustersafe.deep_security >/dev/null
sphinx-build -M html "$site/rst" "$site/build" -c "$site" -W --keep-going -q
cp -r "$site/build/html" "$out/html"
echo "$out/html/index.html ($(find "$out/html" -name '*.html' | wc -l) pages), $out/CHANGELOG.rst"
