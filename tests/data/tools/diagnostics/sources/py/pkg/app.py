import os
import sys


def greet(name: str) -> int:
    s = "héllo 😀 日本"; return undefined_name + s
