#!/usr/bin/env bash
# bench/gpu_build.sh's guard on a pack built ahead (bench/pack_gpu_build.sh): the GPU check may use
# it only while every source it was built from is unchanged; prose, records and the check's own
# scripts may change. And the packer refuses a tree with uncommitted changes, and a second run.
set -uo pipefail
source_dir=$1
source "$source_dir/bench/gpu_build.sh"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
source "$(dirname "$0")/expect.sh"
matches() { pack_matches_tree "$pack_dir" && echo yes || echo no; }

cd "$tree"
git init --quiet
mkdir -p host bench/results bench/peers "$pack_dir"
echo 'int a;' >host/a.cpp
echo 'int b;' >host/b.cpp
echo '# gradflow' >README.md
echo 'echo check' >bench/gpu_check.sh
echo 'print()' >bench/peers/run.py
git add . && git -c user.name=t -c user.email=t@t commit --quiet -m sources

expect "no manifest" "$(matches)" no
write_pack_manifest "$pack_dir"
expect "as packed" "$(matches)" yes
echo 'more prose' >>README.md
echo '{}' >bench/results/gpu_check.json
echo 'echo faster' >>bench/gpu_check.sh
echo 'print(1)' >bench/peers/run.py
expect "prose, a record, the check's scripts changed" "$(matches)" yes
echo 'int a2;' >>host/a.cpp
expect "a source changed" "$(matches)" no
git checkout --quiet host/a.cpp
expect "the source restored" "$(matches)" yes
mv host/b.cpp host/c.cpp
expect "a source renamed" "$(matches)" no
mv host/c.cpp host/b.cpp

# The packer stops before building anything where the tree differs from its commit.
cp "$source_dir/bench/pack_gpu_build.sh" "$source_dir/bench/gpu_build.sh" bench/
git add bench && git -c user.name=t -c user.email=t@t commit --quiet -m packer
rm -rf "$pack_build_dir"
echo 'int a3;' >>host/a.cpp
message=$(bash bench/pack_gpu_build.sh 2>&1)
expect "the packer's exit code on a changed tree" "$?" 2
expect "its message" "$message" \
  "pack_gpu_build: the tree has uncommitted changes; commit them, so that the pack is one commit's"
expect "nothing packed" "$([[ -e $pack_build_dir ]] && echo packed || echo none)" none

# A second packer started while one runs stops at once, leaving the first one's files alone.
git checkout --quiet host/a.cpp
message=$(flock bench/pack_gpu_build.sh bash bench/pack_gpu_build.sh 2>&1)
expect "the packer's exit code beside another run" "$?" 2
expect "its message" "$message" "pack_gpu_build.sh: another run of it is under way here; wait for it to end"

((failures == 0)) && echo "gpu_build.sh: the pack is used only for the sources it was built from"
exit "$failures"
