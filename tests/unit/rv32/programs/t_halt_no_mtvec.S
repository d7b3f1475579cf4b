# A trap with mtvec == 0 halts the hart (kHaltedOnTrap) instead of jumping to 0.
.include "common.inc"
.option norvc
START
    li a0, 1
halt_here:
    ecall
    j fail
FAIL_EXIT
