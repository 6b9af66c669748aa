#!/usr/bin/env python3
"""Checks Kiln's architecture: the floors of the libraries, and includes by full path.

    check_layering.py REPO_ROOT BUILD_DIR/kiln_layers.txt

kiln_layers.txt is written by CMake from the kiln_library() declarations: one line per library,
"name:folder:dep1,dep2". For every source file in a library's folder, each quoted #include must
name a file by its path from the repository root, and that file must live in the library's own
folder or in the folder of a library it depends on (directly or through others). The runtime's
libraries may depend only on each other and on common/. Exit 1 lists every violation.
"""
import os
import re
import sys

root, layers_file = sys.argv[1], sys.argv[2]
libs = {}  # name -> (folder, [deps])
for line in open(layers_file):
    line = line.strip()
    if line:
        name, folder, deps = line.split(':')
        libs[name] = (folder, [d for d in deps.split(',') if d])

def closure(name, seen=None):
    seen = set() if seen is None else seen
    for d in libs[name][1]:
        if d in libs and d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen

folder_lib = {folder: name for name, (folder, _) in libs.items()}
include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
problems = []

for name, (folder, deps) in sorted(libs.items()):
    unknown = [d for d in deps if d.startswith('kiln') and d not in libs]
    problems += [f'{name}: depends on {d}, which is not a kiln_library' for d in unknown]
    if folder.startswith('runtime'):
        for d in closure(name):
            if not (libs[d][0].startswith('runtime') or libs[d][0] == 'common'):
                problems.append(f'{name} ({folder}/): the runtime may link only runtime/ and '
                                f'common/, but reaches {d} ({libs[d][0]}/)')
    allowed = {folder} | {libs[d][0] for d in closure(name)}
    for fname in sorted(os.listdir(os.path.join(root, folder))):
        if not fname.endswith(('.cpp', '.h', '.c', '.def')):
            continue
        path = os.path.join(folder, fname)
        text = open(os.path.join(root, path), encoding='utf-8').read()
        for m in include_re.finditer(text):
            inc = m.group(1)
            line = text.count('\n', 0, m.start()) + 1
            if not os.path.isfile(os.path.join(root, inc)):
                problems.append(f'{path}:{line}: #include "{inc}" is not a path from the '
                                f'repository root')
                continue
            inc_folder = os.path.dirname(inc)
            if inc_folder not in allowed:
                owner = folder_lib.get(inc_folder, 'no library')
                problems.append(f'{path}:{line}: {name} includes "{inc}" ({owner}), which is not '
                                f'among its dependencies ({", ".join(sorted(closure(name))) or "none"})')

for p in problems:
    print(p)
print(f'layering: {len(libs)} libraries, {len(problems)} problem(s)')
sys.exit(1 if problems else 0)
