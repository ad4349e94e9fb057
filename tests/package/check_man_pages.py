#!/usr/bin/env python3
"""Checks that the rendered man pages document every flag that --help prints.

    check_man_pages.py REGAUTH MAN_DIR

The commands are those that `regauth --help` lists; each COMMAND needs the page
MAN_DIR/regauth-COMMAND.1 (source: docs/man/regauth-COMMAND.1.scd) naming every flag of
`regauth COMMAND --help`, and MAN_DIR/regauth.1 must name every global flag of
`regauth --help` and every command. A flag counts as documented when it appears in bold
(scdoc's *--flag*) in the rendered page. Prints one line per omission, naming the flag and
the page, and exits 1 if there is any.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

# The start of an option line in CLI11's help: "  -u,--username TEXT   Username".
OPTION_LINE = re.compile(r"^  (-[A-Za-z0-9?]|--[A-Za-z0-9][A-Za-z0-9-]*)((?:,-{1,2}[A-Za-z0-9-]+)*)")
SECTION = re.compile(r"^([A-Z][A-Za-z ]*):\s*$")


def run_help(regauth: str, *command: str) -> str:
    result = subprocess.run([regauth, *command, "--help"], capture_output=True, text=True,
                            timeout=30, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    if result.returncode != 0:
        sys.exit(f"check_man_pages: `regauth {' '.join(command)} --help` exited "
                 f"{result.returncode}: {result.stderr.strip()}")
    return result.stdout


def parse_help(text: str) -> tuple[list[str], list[str]]:
    """(flags, subcommands) from a CLI11 help text."""
    flags: list[str] = []
    commands: list[str] = []
    section = ""
    for line in text.splitlines():
        heading = SECTION.match(line)
        if heading:
            section = heading.group(1)
            continue
        if section == "Options":
            match = OPTION_LINE.match(line)
            if match:
                names = match.group(1) + match.group(2)
                flags.extend(name for name in names.split(",") if name)
        elif section == "Subcommands":
            match = re.match(r"^  ([a-z][a-z0-9-]*)\b", line)
            if match:
                commands.append(match.group(1))
    return flags, commands


def bold_words(page: str) -> set[str]:
    """Every word set in bold (\\fB...\\fR) in a roff page."""
    text = page.replace("\\&", "").replace("\\-", "-")
    words: set[str] = set()
    for bold in re.findall(r"\\fB(.*?)\\f[RP]", text):
        words.update(re.split(r"[\s,]+", bold))
        words.add(bold)
    return words


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    regauth, man_dir = argv[1], argv[2]
    global_flags, commands = parse_help(run_help(regauth))
    if not commands:
        print("check_man_pages: `regauth --help` lists no commands", file=sys.stderr)
        return 1
    missing: list[str] = []
    checked = 0

    def check(page_name: str, flags: list[str], names: list[str], source: str) -> None:
        nonlocal checked
        path = os.path.join(man_dir, page_name)
        if not os.path.exists(path):
            missing.append(f"{page_name}: page missing (write docs/man/{page_name}.scd); "
                           f"{source} prints {', '.join(flags)}")
            return
        with open(path, encoding="utf-8") as f:
            documented = bold_words(f.read())
        for flag in flags:
            checked += 1
            if flag not in documented:
                missing.append(f"{page_name}: does not document {flag} (printed by `{source}`; "
                               f"add it under OPTIONS in docs/man/{page_name}.scd)")
        for name in names:
            checked += 1
            if name not in documented:
                missing.append(f"{page_name}: does not name the command {name} (add it under "
                               f"COMMANDS in docs/man/{page_name}.scd)")

    check("regauth.1", global_flags, commands, "regauth --help")
    for command in commands:
        flags, _ = parse_help(run_help(regauth, command))
        check(f"regauth-{command}.1", flags, [], f"regauth {command} --help")
    for line in missing:
        print(f"check_man_pages: {line}", file=sys.stderr)
    if missing:
        return 1
    print(f"check_man_pages: {len(commands) + 1} pages, {checked} flags and commands documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
