"""Standard library only (the noxfile imports it): settings, errors, the lock reader, subprocesses."""
