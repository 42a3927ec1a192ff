#!/usr/bin/env python3
"""manage.py for the sample projects: DJANGO_SETTINGS_MODULE picks one
(project1.settings by default), e.g. `python3 manage.py migrate`."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project1.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
