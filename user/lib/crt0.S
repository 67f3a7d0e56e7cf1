# Process entry point. exec starts every program here with
#   a0 = argc, a1 = argv (argv[argc] == NULL), sp 16-byte aligned;
# we call main(argc, argv) and hand its return value to exit(), so a
# program that returns from main exits cleanly with that status.
.text
.global _start
_start:
	li fp, 0		# end of the frame-pointer chain for backtraces
	li ra, 0
	call main
	call exit		# a0 = main's return value; exit never returns
1:	j 1b
