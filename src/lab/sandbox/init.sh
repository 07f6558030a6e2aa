#!/bin/bash
# PID 1 of a matelot sandbox compute host. Written to the sandbox's state directory by
# src/lab/sandbox and run as:
#   unshare --mount --pid --fork --mount-proc --uts --kill-child=SIGKILL -- /bin/bash init.sh STATE PORT ADDR NAME
# Everything mounted here lives in the private mount namespace and disappears when this
# process (PID 1 of the pid namespace, finally sshd through exec) dies.
# It must never write outside the mounts it creates: the host's / is made read-only last.
set -euo pipefail
STATE=$1 PORT=$2 ADDR=$3 NAME=$4

# 0. belt and braces: unshare(1) already makes / recursively private
mount --make-rprivate /

# 1. private /etc: a RAM copy of the host's whole /etc (a single-file bind mount breaks
#    useradd, which renames files in /etc), with matelot's prepared files laid over it.
#    tmpfs because shadow-utils fsync()s every file it rewrites.
mount -t tmpfs -o mode=755,size=64m matelot-sbx-etc "$STATE/etc-ram"
cp -a /etc/. "$STATE/etc-ram/"
rm -f "$STATE"/etc-ram/ssh/ssh_host_*
cp -a "$STATE/etc/." "$STATE/etc-ram/"
mount --bind "$STATE/etc-ram" /etc

# 2. private, empty, RAM-backed state directories
mount -t tmpfs -o mode=755,size=512m matelot-sbx-home /home
mount -t tmpfs -o mode=700,size=64m matelot-sbx-root /root
mount -t tmpfs -o mode=755,size=64m matelot-sbx-run /run
mount -t tmpfs -o mode=755,size=64m matelot-sbx-varlog /var/log
mount -t tmpfs -o mode=2775,gid=8,size=16m matelot-sbx-mail /var/mail
if [ -d /var/lib/sudo ]; then mount -t tmpfs -o mode=711,size=4m matelot-sbx-sudo /var/lib/sudo; fi
mount -t tmpfs -o mode=755,size=512m matelot-sbx-srv /srv
# fake tools (nvidia-smi, a setquota shim...) over the host's /usr/local/bin, read-only
if [ -d "$STATE/bin" ]; then
  mount -t overlay matelot-sbx-localbin -o "lowerdir=$STATE/bin:/usr/local/bin" /usr/local/bin
fi

hostname "$NAME"

# 3. files that sshd, login and useradd expect
install -d -m 755 /run/sshd
install -m 664 -g utmp /dev/null /run/utmp
install -m 664 -g utmp /dev/null /var/log/wtmp
install -m 664 -g utmp /dev/null /var/log/lastlog
install -m 660 -g utmp /dev/null /var/log/btmp
install -m 644 /dev/null /var/log/faillog

# 4. root's authorized key (made by matelot, outside)
install -d -m 700 /root/.ssh
install -m 600 "$STATE/client_key.pub" /root/.ssh/authorized_keys

# 5. private /tmp LAST (the state directory may live under the host's /tmp)
mount -t tmpfs -o mode=1777,size=512m matelot-sbx-tmp /tmp

# 6. the host's root file system READ-ONLY in this namespace only: a stray write to /usr,
#    /var/lib, /opt ... fails with EROFS instead of reaching the real machine.
mount -o remount,bind,ro /

echo "matelot-sandbox: exec sshd on $ADDR port $PORT" >&2
# sshd becomes PID 1 (absolute path: it re-execs itself); killing it ends the namespace.
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config -p "$PORT" -o "ListenAddress=$ADDR"
