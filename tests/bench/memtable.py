"""memtable.py - where a process's resident memory is, by kind, from
/proc/PID/smaps (issue 14). Used by bench.py; no state, no side effects.

Every mapping goes to exactly one category, so the categories add up to
the sum of the mappings' Rss (what VmRSS counts, read a moment apart).
The categories (tests/bench/README.md has the same as a table):

  locked       a mapping with locked pages (Locked: > 0): in the kiosk
               the secrets arena (secmem.c; it also holds the card
               worker's stack) and the locked top of the main thread's
               stack (secmem_lock_stack: mlock splits it off [stack]).
  stacks       [stack], and the mapping holding a thread's stack pointer
               (from /proc/PID/task/TID/syscall, readable by root or the
               same user while the thread sleeps in a system call), or an
               anonymous read-write mapping that starts right where an
               anonymous PROT_NONE mapping ends (glibc's guard page under
               a thread stack). Only the pages touched count: a thread's
               8 MiB stack is mostly not resident.
  framebuffer  shared memory that is not a file of the system: SysV shm
               (/SYSV..., how SDL's X11 driver shares the window with the
               X server through MIT-SHM), /memfd:..., /dev/shm/... (Wayland
               wl_shm pools: the window's buffers, a cursor's).
  fonts        mapped font files (.otf .ttf .ttc .pfb). Normally 0: SDL_ttf
               reads fonts through SDL_RWops, so what FreeType keeps of a
               face is in the heap.
  libraries    file-backed mappings of the program itself and of shared
               objects (*.so, *.so.N), code and data. Their .bss is an
               anonymous mapping: it goes to heap below.
  heap         [heap], glibc's thread arenas (an anonymous mapping aligned
               to 64 MiB with its PROT_NONE reserve right after it), the
               .bss of the program and libraries (an anonymous mapping
               right after a file's writable mapping), and every other
               anonymous mapping under 128 KiB.
  textures     the remaining anonymous mappings of 128 KiB or more:
               allocations glibc maps on their own. The kiosk sets
               M_MMAP_THRESHOLD to 128 KiB, so its surfaces and textures
               (a software texture is a malloc'd surface) land here; so do
               other large allocations (SDL's, FreeType's, the voice's;
               llvmpipe's under Wayland). An approximation, named after
               what dominates it in the kiosk.
  other        everything else: other files (locale files, gconv cache),
               [vdso], [vvar].

classify() applies the rules in this order, the first match wins: locked;
[stack] or a thread's stack pointer; a thread arena or a .bss; a guard
page below (after the arena rule: an arena also starts where the arena
before it ends its PROT_NONE reserve); framebuffer; fonts; libraries;
[heap]; anonymous >= 128 KiB; anonymous; other.
"""

import os
import re

ORDER = ["libraries", "framebuffer", "fonts", "textures", "heap", "locked", "stacks", "other"]

LABELS = {
    "libraries": "libraries (program + .so code/data)",
    "framebuffer": "framebuffer (shm shared with display)",
    "fonts": "fonts (mapped font files)",
    "textures": "textures + large allocations (anon >=128K)",
    "heap": "heap ([heap], arenas, .bss, anon <128K)",
    "locked": "locked (mlock: secrets arena, stack top)",
    "stacks": "stacks ([stack], thread stacks)",
    "other": "other (locale, gconv, vdso...)",
}

LARGE_KB = 128            # the kiosk's M_MMAP_THRESHOLD
ARENA_ALIGN = 64 << 20    # glibc's HEAP_MAX_SIZE on 64-bit

_HEAD = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$")
_SO = re.compile(r"\.so(\.\d+)*$")
_FONT = re.compile(r"\.(otf|ttf|ttc|pfb)$", re.I)


class Mapping:
    __slots__ = ("start", "end", "perms", "inode", "name", "rss", "locked")

    def __init__(self, start, end, perms, inode, name):
        self.start, self.end, self.perms, self.inode, self.name = start, end, perms, inode, name
        self.rss = self.locked = 0

    @property
    def anon(self):
        return self.inode == 0 and not self.name

    @property
    def kb(self):
        return (self.end - self.start) >> 10


def read_smaps(pid):
    maps, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = _HEAD.match(line)
            if m:
                cur = Mapping(int(m.group(1), 16), int(m.group(2), 16), m.group(3), int(m.group(4)),
                              m.group(5).strip())
                maps.append(cur)
            elif line.startswith("Rss:"):
                cur.rss = int(line.split()[1])
            elif line.startswith("Locked:"):
                cur.locked = int(line.split()[1])
    return maps


def thread_stack_pointers(pid):
    """Each sleeping thread's stack pointer (the next-to-last field of
    /proc/PID/task/TID/syscall); a running thread shows "running" and is
    left to the guard-page rule."""
    sps = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return sps
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                fields = f.read().split()
        except OSError:
            continue
        if len(fields) >= 3 and fields[0] not in ("running", "-1"):
            sps.append(int(fields[-2], 16))
    return sps


def classify(maps, sps):
    """Category of each mapping, in the order of `maps`."""
    by_end = {m.end: m for m in maps}
    by_start = {m.start: m for m in maps}
    out = []
    for m in maps:
        below, above = by_end.get(m.start), by_start.get(m.end)
        path = m.name[:-len(" (deleted)")] if m.name.endswith(" (deleted)") else m.name
        guard_below = below is not None and below.anon and below.perms.startswith("---")
        reserve_above = above is not None and above.anon and above.perms.startswith("---")
        holds_sp = any(m.start <= sp < m.end for sp in sps)
        arena = m.anon and m.start % ARENA_ALIGN == 0 and reserve_above
        bss = m.anon and below is not None and below.name.startswith("/") and below.perms.startswith("rw")
        if m.locked:
            cat = "locked"
        elif m.name == "[stack]" or (m.anon and holds_sp):
            cat = "stacks"
        elif arena or bss:
            cat = "heap"
        elif m.anon and guard_below and m.perms.startswith("rw"):
            cat = "stacks"
        elif "s" in m.perms[3:] and (m.name.startswith(("/SYSV", "/memfd:", "/dev/shm/"))
                                     or m.name in ("/dev/zero (deleted)", "[anon_shmem]")):
            cat = "framebuffer"
        elif _FONT.search(path):
            cat = "fonts"
        elif m.name.startswith("/") and (_SO.search(path) or m.inode and _is_program(path)):
            cat = "libraries"
        elif m.name == "[heap]":
            cat = "heap"
        elif m.anon:
            cat = "textures" if m.kb >= LARGE_KB else "heap"
        else:
            cat = "other"
        out.append(cat)
    return out


def _is_program(path):
    """An executable file (the program itself), not data such as a locale."""
    try:
        return os.access(path, os.X_OK) and os.path.isfile(path)
    except OSError:
        return False


def memory(pid):
    """{category: Rss kB, 'total', 'locked_kb', 'vmrss', 'vmhwm',
    'by_library': {file name: Rss kB}} of a running process; root (or its
    own user) must be able to read its /proc."""
    maps = read_smaps(pid)
    cats = classify(maps, thread_stack_pointers(pid))
    res = {c: 0 for c in ORDER}
    libs = {}
    for m, c in zip(maps, cats):
        res[c] += m.rss
        if c == "libraries":
            name = os.path.basename(m.name)
            libs[name] = libs.get(name, 0) + m.rss
    res["by_library"] = libs
    res["total"] = sum(m.rss for m in maps)
    res["locked_kb"] = sum(m.locked for m in maps)
    res.update(status_kb(pid, "VmRSS", "VmHWM"))
    return res


def library_difference(a, b, n=6):
    """The n libraries whose Rss differs most from b to a: [(name, kB a-b)]."""
    la, lb = a.get("by_library", {}), b.get("by_library", {})
    diff = [(k, la.get(k, 0) - lb.get(k, 0)) for k in set(la) | set(lb)]
    return sorted(diff, key=lambda kv: -abs(kv[1]))[:n]


def status_kb(pid, *keys):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k = line.split(":")[0]
            if k in keys:
                out[k.lower()] = int(line.split()[1])
    return out


def format_table(columns):
    """columns: [(heading lines, memory() result or None)]; returns lines, in MB."""
    width, cell = 46, 12
    lines = []
    for i in range(max(len(h) for h, _ in columns)):
        lines.append("  " + " " * width + "".join(f"{h[i] if i < len(h) else '':>{cell}s}" for h, _ in columns))

    def row(label, key):
        cells = "".join(f"{'-':>{cell}s}" if r is None or key not in r else f"{r[key] / 1024.0:{cell}.2f}"
                        for _, r in columns)
        return "  " + f"{label:{width}s}" + cells
    for c in ORDER:
        lines.append(row(LABELS[c], c))
    lines.append(row("= Rss, the sum of the mappings", "total"))
    lines.append(row("VmRSS (the kernel's count, just after)", "vmrss"))
    lines.append(row("VmHWM (peak so far)", "vmhwm"))
    lines.append(row("Locked: (sum over the mappings)", "locked_kb"))
    return lines
