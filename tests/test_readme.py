"""The README holds up on a fresh clone: its commands run as written, its table is complete.

Every command in a shell or crontab block (and inline code that starts like a command)
must name a program and subcommand that exist, with options they accept. The cheap
ones run for real (``help``, ``--help``, ``bash -n``) in a shell with none of the
service's variables set, as a newcomer's would be.
"""

import ast
import functools
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands, load_command_class

import dev

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

FENCED_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
INLINE_CODE = re.compile(r"`([^`\n]+)`")
INLINE_COMMAND = re.compile(r"^(python3? |\.venv/|bash |sudo |docker-compose )")
ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=")
# Programs a reader installs from their system, not from this repository.
SYSTEM_PROGRAMS = {"apt-get"}
# Files that read the environment, and what they read it with besides os.environ/os.getenv.
ENVIRONMENT_READERS = ["bokacheckout/settings.py", "gunicorn.conf.py", "dev.py"]
ENV_HELPER = re.compile(r"^_env_")


def readme_commands() -> list[str]:
    """Every command line: shell blocks, crontab entries without their schedule, and
    inline code that starts like a command."""
    commands = []
    for language, body in FENCED_BLOCK.findall(README):
        lines = body.replace("\\\n", " ").splitlines()
        if language in SHELL_LANGUAGES:
            commands += [line for line in lines if line.strip() and not line.startswith("#")]
        elif language == "crontab":
            commands += [line.split(None, 5)[5] for line in lines if line.strip()]
    prose = FENCED_BLOCK.sub("", README)
    commands += [code for code in INLINE_CODE.findall(prose) if INLINE_COMMAND.match(code)]
    return commands


def simple_commands(line: str) -> list[tuple[dict[str, str], list[str]]]:
    """``A=1 prog args && prog2 args`` as ``[({"A": "1"}, [prog, args]), ({}, [prog2, args])]``."""
    parts: list[list[str]] = [[]]
    for token in shlex.split(line, comments=True):
        if token == "&&":
            parts.append([])
        else:
            assert token not in {"|", ";", "||"}, f"teach this test about {token!r}"
            parts[-1].append(token)
    split = []
    for tokens in parts:
        environment = {}
        while tokens and ASSIGNMENT.match(tokens[0]):
            name, _, value = tokens.pop(0).partition("=")
            environment[name] = value
        split.append((environment, tokens))
    return split


def fresh_shell(**environment: str) -> dict[str, str]:
    """A newcomer's environment: none of the service's variables, but what the line sets."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "STRIPE_", "DATABASE_"))
    }
    return {**clean, **environment}


def run_for_real(argv: list[str], environment: dict[str, str]) -> str:
    result = subprocess.run(
        argv, cwd=ROOT, env=fresh_shell(**environment), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{shlex.join(argv)} failed:\n{result.stderr}"
    return result.stdout


@functools.cache
def help_of(*argv: str) -> str:
    return run_for_real(["python3", *argv, "--help"], {})


def check_dev_py(args: list[str], environment: dict[str, str]) -> None:
    command, *rest = args
    assert command in dev.COMMANDS, f"dev.py has no command {command!r}"
    if command == "manage":
        check_manage_py(rest, environment, in_dev_py=True)
    elif command == "python":
        check_python_program(rest)
    elif command == "test":
        check_pytest_arguments(rest)


def check_manage_py(args: list[str], environment: dict[str, str], *, in_dev_py: bool) -> None:
    """The command exists (``help`` runs for real under dev.py) and its arguments parse."""
    name, *arguments = args or ["help"]
    if name == "help" and not arguments:
        if in_dev_py:
            run_for_real(["python3", "dev.py", "manage", "help"], environment)
        return
    if name == "help":
        name, arguments = arguments[0], []
    commands = get_commands()
    assert name in commands, f"manage.py has no command {name!r}"
    if in_dev_py:
        usage = run_for_real(["python3", "dev.py", "manage", "help", name], environment)
        assert usage.startswith(f"usage: manage.py {name}")
    if arguments:
        command = load_command_class(commands[name], name)
        command.create_parser("manage.py", name).parse_args(arguments)


def check_python_program(args: list[str]) -> None:
    """``-m module ...`` or ``script ...``: its --help runs, and lists each option used."""
    if not args:
        run_for_real(["python3", "dev.py", "python", "--version"], {})
        return
    program = args[:2] if args[0] == "-m" else args[:1]
    if args[0] != "-m":
        assert (ROOT / args[0]).is_file(), f"no script {args[0]}"
    usage = help_of("dev.py", "python", *program)
    for option in args[len(program) :]:
        if option.startswith("--"):
            assert option in usage, f"{shlex.join(program)} has no option {option}"


def check_pytest_arguments(args: list[str]) -> None:
    for argument in args:
        if argument.startswith("--"):
            assert argument in help_of("dev.py", "test"), f"pytest has no option {argument}"
        elif argument.startswith("tests"):
            assert (ROOT / argument).exists(), f"no test path {argument}"


def check_in_compose_service(args: list[str]) -> None:
    """``docker-compose exec [-T] SERVICE python manage.py ...``: the service exists, and the
    command is the image's manage.py, which runs in the service's own environment."""
    assert args[0] == "exec", f"teach this test about docker-compose {args[0]}"
    arguments = args[1:]
    while arguments[0].startswith("-"):
        arguments.pop(0)  # exec's own options, such as -T
    service, python, script, *rest = arguments
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert service in compose["services"]
    assert (python, script) == ("python", "manage.py")
    check_manage_py(rest, {}, in_dev_py=False)


def check(environment: dict[str, str], argv: list[str]) -> None:
    program, *args = argv
    if program == "cd":
        return  # the deployment's own directory
    if program == "sudo":
        check(environment, args)
    elif program == "python3" and args[:1] == ["dev.py"]:
        check_dev_py(args[1:], environment)
    elif program == "bash":
        run_for_real(["bash", "-n", *args], environment)
    elif program == "docker-compose":
        check_in_compose_service(args)
    elif program in SYSTEM_PROGRAMS:
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed here")
    else:
        pytest.fail(f"{shlex.join(argv)}: not runnable on a fresh clone (use python3 dev.py)")


@pytest.mark.parametrize("line", readme_commands())
def test_every_readme_command_runs_as_written(line):
    for environment, argv in simple_commands(line):
        undocumented = set(environment) - configuration_table()
        assert not undocumented, f"variables missing from the Configuration table: {undocumented}"
        check(environment, argv)


def test_the_readme_has_commands_to_check():
    commands = readme_commands()

    assert "python3 dev.py run" in " ".join(commands)
    assert any("create_stripe_webhook" in command for command in commands)


# --- the configuration table ---------------------------------------------------------------


def configuration_table() -> set[str]:
    """The variable names in the first column of the README's Configuration table."""
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}


def is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def name_read(node: ast.AST) -> str | None:
    """The variable ``node`` reads: os.environ.get/[]/in, os.getenv, or an _env_* helper."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        function = node.func
        if (
            (isinstance(function, ast.Attribute) and is_os_environ(function.value))
            or (isinstance(function, ast.Attribute) and function.attr == "getenv")
            or (isinstance(function, ast.Name) and ENV_HELPER.match(function.id))
        ):
            return node.args[0].value
    if isinstance(node, ast.Subscript) and is_os_environ(node.value):
        return getattr(node.slice, "value", None)
    if (
        isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Constant)
        and any(is_os_environ(comparator) for comparator in node.comparators)
    ):
        return node.left.value
    return None


def environment_reads(path: Path) -> set[str]:
    names = {name_read(node) for node in ast.walk(ast.parse(path.read_text()))}
    return names - {None}


@pytest.mark.parametrize("path", ENVIRONMENT_READERS)
def test_every_variable_the_code_reads_is_in_the_configuration_table(path):
    missing = environment_reads(ROOT / path) - configuration_table()

    assert not missing, f"{path} reads variables the README's table does not list: {missing}"


def test_every_variable_in_the_configuration_table_is_read_by_the_code():
    read = set().union(*(environment_reads(ROOT / path) for path in ENVIRONMENT_READERS))

    assert configuration_table() - read == set()


def test_the_table_parser_finds_what_settings_reads():
    reads = environment_reads(ROOT / "bokacheckout/settings.py")

    assert {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DATABASE_URL", "STRIPE_API_BASE"} <= reads
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= configuration_table()
