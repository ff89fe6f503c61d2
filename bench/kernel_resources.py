#!/usr/bin/env python3
"""Registers and local memory of gradflow's kernels, from a build's ptxas report.

Configure with -DCMAKE_CUDA_FLAGS="-Xptxas -v", build, and pass the build's output:

    ninja -C build gradflow > build.log 2>&1; python3 bench/kernel_resources.py build.log

Per kernel (demangled, grouped by template): registers a thread, its stack frame (local memory),
the threads an SM can hold at that register count (blocks of 128), and the local memory the driver
reserves for the whole device at the kernel's first launch: (frame + 512 B) rounded up to 256 B,
for every thread the device can hold (the CUDA driver sizes it by the device's most threads per
SM, not the kernel's occupancy), by default for an H200 (132 SMs of 2048 threads).
No GPU is needed: these are the compiler's figures.
"""
import argparse
import re
import subprocess
import sys

ENTRY = re.compile(r"Compiling entry function '(\S+)' for '(sm_\d+)'")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
REGISTERS = re.compile(r"Used (\d+) registers")
ENUM_VALUES = [
    (r"\(gradflow::detail::method_scope\)0", "explicit_runge_kutta"),
    (r"\(gradflow::detail::method_scope\)1", "factored_runge_kutta"),
    (r"\(gradflow::detail::method_scope\)2", "all_but_learned_flow"),
    (r"\(gradflow::detail::method_scope\)3", "all"),
    (r"\(gradflow::detail::lockstep_phase\)(\d+)", r"phase \1"),
]


def demangle(names):
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True,
                             check=True).stdout.splitlines()
        return out if len(out) == len(names) else names
    except (OSError, subprocess.CalledProcessError):
        return names


def threads_per_sm(registers, block=128, register_file=65536, most_threads=2048):
    per_warp = -(-registers * 32 // 256) * 256  # allocated per warp in units of 256 registers
    warps = register_file // per_warp
    blocks = warps // (block // 32)
    return min(most_threads, blocks * block)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="a build's output with ptxas -v")
    parser.add_argument("--match", default="fused_kernel|phase_kernel",
                        help="regular expression on the demangled kernel name")
    parser.add_argument("--sms", type=int, default=132, help="the device's SMs (H200: 132)")
    parser.add_argument("--threads-per-sm", type=int, default=2048)
    args = parser.parse_args()

    kernels, current = [], None
    for line in open(args.log, errors="replace"):
        if m := ENTRY.search(line):
            current = {"name": m.group(1), "arch": m.group(2)}
            kernels.append(current)
        elif current is not None and (m := FRAME.search(line)):
            current["frame"], current["spills"] = int(m.group(1)), int(m.group(2)) + int(m.group(3))
        elif current is not None and (m := REGISTERS.search(line)):
            current["registers"] = int(m.group(1))
            current = None
    names = demangle([k["name"] for k in kernels])
    seen = set()
    print("| kernel | arch | registers | stack frame (B) | spills (B) | threads/SM | "
          "local memory reserved (GB) |")
    print("|---|---|---|---|---|---|---|")
    for kernel, name in zip(kernels, names):
        if "registers" not in kernel or not re.search(args.match, name):
            continue
        for cast, label in ENUM_VALUES:  # c++filt writes a template's enum argument as a cast
            name = re.sub(cast, label, name)
        name = name.split(">(")[0] + ">"  # the parameter list goes
        name = name.replace("(anonymous namespace)::", "").replace("gradflow::detail::", "")
        if (name, kernel["arch"]) in seen:
            continue
        seen.add((name, kernel["arch"]))
        reserved = (-(-(kernel.get("frame", 0) + 512) // 256) * 256 * args.threads_per_sm
                    * args.sms)
        print(f"| `{name}` | {kernel['arch']} | {kernel['registers']} | {kernel.get('frame', 0)} | "
              f"{kernel.get('spills', 0)} | {threads_per_sm(kernel['registers'])} | "
              f"{reserved / 1e9:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
