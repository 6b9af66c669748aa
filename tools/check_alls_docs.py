#!/usr/bin/env python3
"""docs/alls.md stays true to the model-script corpus: every command, feature and key the corpus's
scripts use is named in the reference part of docs/alls.md ("## Reference: every command, ..."),
the key in the same table row or paragraph as its command or feature (or in the row of the
command's common keys). Usage: check_alls_docs.py REPO_DIR [CORPUS_DIR]; the corpus defaults to
../shared/alls-corpus beside the checkout. Exit 0 all named, 1 something missing (listed),
77 no corpus (skipped)."""
import os
import re
import sys

FEATURE_COMMANDS = {"model_optimization_config", "pre_quantization_optimization",
                    "post_quantization_optimization"}


def statements(text):
    """Yields the statements of a script: comment lines dropped, open brackets join lines."""
    buf, depth = "", 0
    for line in text.splitlines():
        if not buf and line.lstrip().startswith("#"):
            continue
        buf += " " + line
        depth += line.count("(") + line.count("[") + line.count("{")
        depth -= line.count(")") + line.count("]") + line.count("}")
        if depth <= 0:
            if buf.strip():
                yield buf.strip()
            buf, depth = "", 0
    if buf.strip():
        yield buf.strip()


def parse(stmt):
    """(command, feature or None, keys) of one statement, or None when it is not a call."""
    m = re.match(r"^(?:[^=()]*=\s*)?(?:[A-Za-z_][\w]*\.)?([A-Za-z_]\w*)\s*\((.*)\)\s*\)?$", stmt)
    if not m:
        return None
    command, args = m.group(1), m.group(2)
    feature = None
    if command in FEATURE_COMMANDS:
        f = re.match(r"\s*([A-Za-z_]\w*)\s*(,|$)", args)
        feature = f.group(1) if f else None
    keys = set(re.findall(r"(?:^|[,(\s])([A-Za-z_]\w*)\s*=(?!=)", args))
    return command, feature, keys


def corpus_uses(corpus):
    uses = {}
    for root, _, files in os.walk(corpus):
        for f in sorted(files):
            if not f.endswith(".alls"):
                continue
            with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                for st in statements(fh.read()):
                    p = parse(st)
                    if p:
                        uses.setdefault((p[0], p[1]), set()).update(p[2])
    return uses


def blocks(doc):
    """The reference part of the page as blocks: each table row, and each prose paragraph."""
    start = doc.find("## Reference: every command")
    if start < 0:
        sys.exit("docs/alls.md has no '## Reference: every command' section")
    out, para = [], []
    for line in doc[start:].splitlines():
        if re.match(r"^\|\s*\|", line) and out:
            out[-1] += " " + line  # a row with an empty first cell continues the one above
        elif line.startswith("|"):
            out.append(line)
        elif line.strip():
            para.append(line)
            continue
        if para and not line.strip() or line.startswith("|"):
            if para:
                out.append(" ".join(para))
                para = []
    if para:
        out.append(" ".join(para))
    return out


def named(block, name):
    return re.search(r"`" + re.escape(name) + r"(`|\b)", block) is not None


def main():
    repo = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else os.path.join(repo, "..", "shared",
                                                                 "alls-corpus")
    if not os.path.isdir(corpus):
        print(f"no corpus at {corpus}: skipped")
        return 77
    with open(os.path.join(repo, "docs", "alls.md"), encoding="utf-8") as fh:
        bl = blocks(fh.read())
    uses = corpus_uses(corpus)
    missing = []
    for (command, feature), keys in sorted(uses.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        subject = feature or command
        rows = [b for b in bl if named(b, subject)]
        if feature:  # the command's common keys are in its "(every feature)" row
            rows += [b for b in bl if named(b, command) and "every feature" in b]
        if not rows:
            missing.append(f"{command}" + (f"({feature})" if feature else "") + ": not named")
            continue
        for k in sorted(keys):
            if not any(named(b, k) for b in rows):
                missing.append(f"{command}" + (f"({feature})" if feature else "") +
                               f" key {k}: not named with its command")
    n_keys = sum(len(k) for k in uses.values())
    if missing:
        print(f"docs/alls.md misses {len(missing)} of the corpus's commands and keys:")
        for m in missing:
            print("  " + m)
        return 1
    print(f"docs/alls.md names all {len(uses)} commands/features and {n_keys} keys of the corpus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
