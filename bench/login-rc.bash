# A root ~/.bashrc for bench/rto.sh --login-rc: a shell start-up that costs about 0.4 s of CPU, as the host of
# issue 17 had (0.45 s per command there; version managers' `init` lines cost that much), whatever this machine's
# own start-up files cost.
i=0
while [ $i -lt 150000 ]; do i=$((i + 1)); done
unset i
