"""Checks docs/man/*.8 against the programs they document (suite 'unit', no root).

For each page: groff -man -ww reports no warning, `man --warnings -l` renders it without one,
lexgrog (what mandb indexes) finds its NAME line, and every option the program's --help
prints (every --long and -x token) appears in the page. The last check is what keeps the
hand-written pages complete when an option is added: it fails, naming the page and the
options it lacks.

usage: check_man_pages.py MAN_DIR PROGRAM_PATH...
"""
import re
import subprocess
import sys
from pathlib import Path

# An option token in --help text: -x or --long-name, not part of a word ("sh-fallback",
# "0-65535") or of a path.
OPTION = re.compile(r"(?<![\w/$-])(--?[A-Za-z][A-Za-z0-9-]*)")


def help_options(program):
    r = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"{program} --help exited {r.returncode}: {r.stderr}")
    return sorted(set(OPTION.findall(r.stdout)))


def page_text(page):
    # roff escapes a hyphen as \- ; \(em and the like do not make options.
    return page.read_text().replace("\\-", "-")


def check(page, program):
    problems = []
    groff = subprocess.run(["groff", "-man", "-ww", "-z", str(page)], capture_output=True, text=True, timeout=30)
    if groff.returncode != 0 or groff.stderr.strip():
        problems.append(f"groff -ww: {groff.stderr.strip() or groff.returncode}")
    man = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True, timeout=30,
                         env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    if man.returncode != 0 or man.stderr.strip():
        problems.append(f"man --warnings: {man.stderr.strip() or man.returncode}")
    lexgrog = subprocess.run(["lexgrog", str(page)], capture_output=True, text=True, timeout=30)
    if lexgrog.returncode != 0 or f'"{Path(program).name} - ' not in lexgrog.stdout:
        problems.append(f"lexgrog finds no NAME line for {Path(program).name}: {lexgrog.stdout.strip()}")
    text = page_text(page)
    options = help_options(program)
    if not options:
        problems.append(f"{program} --help lists no option: nothing to compare")
    missing = [o for o in options if not re.search(re.escape(o) + r"(?![A-Za-z0-9-])", text)]
    if missing:
        problems.append(f"options of {Path(program).name} --help missing from the page: {' '.join(missing)}")
    return problems, len(options)


def main():
    man_dir, programs = Path(sys.argv[1]), sys.argv[2:]
    failed = False
    for program in programs:
        page = man_dir / f"{Path(program).name}.8"
        problems, count = check(page, program)
        for p in problems:
            print(f"{page.name}: {p}")
        if problems:
            failed = True
        else:
            print(f"{page.name}: ok ({count} options of --help, groff/man/lexgrog clean)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
