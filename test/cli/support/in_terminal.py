# Runs a command with a pseudo-terminal as its stdin, stdout and stderr, as if a person typed at it.
#   python3 in_terminal.py 'line one' 'line two' -- node bin/sockit.js connect 127.0.0.1 9000
# The lines are typed at once (the terminal holds them until the program reads, as it would hold a
# fast typist's keystrokes); no end-of-file is typed. Prints everything the terminal showed, then
# `exit=N` on a line of its own.
import os
import pty
import sys

split = sys.argv.index('--')
lines, command = sys.argv[1:split], sys.argv[split + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
for line in lines:
    os.write(fd, line.encode('utf-8') + b'\n')
shown = b''
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    shown += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode('utf-8', 'replace'))
sys.stdout.write('\nexit=%d\n' % (os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)))
