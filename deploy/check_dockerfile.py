"""Checks deploy/Dockerfile as parsed by BuildKit's own parser (the PyPI package
`dockerfile` wraps it): every instruction is one Docker knows, a `COPY --from`
names an earlier stage, and the final stage runs ercs as a non-root user.

Usage: python check_dockerfile.py FILE; exits 1, saying why, on any failure."""

import sys

import dockerfile

KNOWN = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
}


def problems(path):
    try:
        commands = dockerfile.parse_file(path)
    except dockerfile.GoParseError as error:
        return [f"does not parse: {error}"]
    found, stages, final = [], [], {}
    if not commands or commands[0].cmd not in ("FROM", "ARG"):
        found.append("the first instruction must be FROM (or ARG)")
    for command in commands:
        where = f"line {command.start_line}: {command.original}"
        if command.cmd not in KNOWN:
            found.append(f"{where}: unknown instruction {command.cmd}")
        if command.cmd == "FROM":
            value = [v.lower() for v in command.value]
            stages.append(value[2] if len(value) == 3 and value[1] == "as" else None)
            final = {}
        for flag in command.flags:
            if command.cmd == "COPY" and flag.startswith("--from="):
                stage = flag.split("=", 1)[1].lower()
                if stage not in stages[:-1]:
                    found.append(f"{where}: no earlier stage named {stage}")
        final[command.cmd] = command.value
    user = final.get("USER", ("root",))[0].split(":")[0]
    if user in ("root", "0"):
        found.append("the final stage runs as root (add USER)")
    if "ENTRYPOINT" not in final and "CMD" not in final:
        found.append("the final stage has no ENTRYPOINT or CMD")
    return found


if __name__ == "__main__":
    failures = problems(sys.argv[1])
    for failure in failures:
        print(f"{sys.argv[1]}: {failure}")
    if failures:
        sys.exit(1)
    print(f"ok -- {sys.argv[1]}")
