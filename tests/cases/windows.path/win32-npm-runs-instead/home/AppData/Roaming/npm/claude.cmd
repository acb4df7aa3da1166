#!/bin/sh
# Stand-in for claude.exe / claude.cmd: prints what `claude --version` prints (#31047: npm's global folder C:\Users\<usuario>\AppData\Roaming\npm).
echo '2.1.89 (Claude Code)'
