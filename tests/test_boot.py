"""Boot: the kernel comes up to a shell prompt, and halt ends QEMU.

The boot fixture records the boot time (spawn to first prompt) in the
test's console log and in the table at the end of the run; no test asserts
on it.
"""

from grading import graded


@graded(5)
def test_boots_to_prompt_with_2_cpus(guest):
    "boots to the shell prompt with 2 CPUs and runs a command"
    assert guest.run("echo alive") == "alive\n"
    assert guest.halt() == 0, "halt must power QEMU off with status 0"


@graded(2)
def test_halt_code_becomes_qemu_exit_status(guest):
    "halt 7 makes QEMU exit with status 7"
    assert guest.halt(7) == 7
