# A trap whose handler faults on its first instruction halts the hart.
.include "common.inc"
.option norvc
START
    li t0, UNMAPPED
    csrw mtvec, t0
    ebreak                      # -> fetch fault at UNMAPPED -> halt
    j fail
FAIL_EXIT
