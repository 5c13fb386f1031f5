# Shared by the bench-*.sh scripts (sourced, not run).

# The median of the numbers on standard input, one per line (the upper one of an even count).
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
