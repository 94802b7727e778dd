#!/usr/bin/env bash
# Build the path ansible-core and ansible-test need (.../ansible_collections/clustersafe/deep_security)
# without assuming where the clone sits:
#   build/collections/ansible_collections/clustersafe/deep_security -> the clone (a symlink), for
#     ansible-playbook and pytest (ANSIBLE_COLLECTIONS_PATH / sys.path = build/collections);
#   build/sanity/ansible_collections/clustersafe/deep_security (a copy of the tracked and untracked,
#     not ignored files), for ansible-test, which resolves symlinks and wants a real directory.
# Usage: tools/collection-root.sh [link|copy]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-link}
case "$mode" in
  link)
    target="$root/build/collections/ansible_collections/clustersafe"
    mkdir -p "$target"
    ln -sfn "$root" "$target/deep_security"
    echo "$root/build/collections"
    ;;
  copy)
    target="$root/build/sanity/ansible_collections/clustersafe/deep_security"
    rm -rf "$target"
    mkdir -p "$target"
    # Tracked files deleted in the work tree are still listed by git; copy only what exists.
    (cd "$root" && git ls-files -co --exclude-standard -z | grep -zv '^build/' \
      | while IFS= read -r -d '' file; do
          if [ -e "$file" ] || [ -L "$file" ]; then printf '%s\0' "$file"; fi
        done | xargs -0 -r cp --parents -P -t "$target"/)
    # ansible-test lists the files of a collection through git when it finds a repository.
    (cd "$target" && git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity)
    echo "$target"
    ;;
  *) echo "usage: $0 [link|copy]" >&2; exit 2 ;;
esac
