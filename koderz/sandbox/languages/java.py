"""Java exercises: javac and JUnit 5's console launcher, with ``@Disabled`` ignored as
Aider's benchmark does (without Gradle fetching its wrapper); the jars come from Koderz's
cache, filled from Maven Central by ``scripts/setup.sh``.

javac is Koderz's tool, not the candidate's code, and its runs are short: its JVM stops at
the first JIT tier and collects with the serial collector (half its CPU time), and compiles
the solution, then the tests, in one JVM (a small driver of Koderz's, ``KoderzJavac``, over
the JDK's compiler API, compiled once into the cache): the second compilation finds the
compiler loaded and compiled. javac's JVM and the launcher's map their classes from
class-data archives (AppCDS) that Koderz dumps once per JDK, outside any sandbox, into its
cache (read-only in the sandbox). The tests' JVM keeps its default compilers: a candidate's
code there may compute for seconds, and needs the optimising tier (alphametics' reference
takes 37 s at the first tier, 13 s without).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from koderz.sandbox.languages.base import CACHE, Step, cache_dir, digest

NAME = "java"
ALIASES: tuple[str, ...] = ()
TOOLS = ("javac", "java")
CACHED = ("java/junit-platform-console-standalone.jar", "java/assertj-core.jar")
HOW = (
    "install a JDK (apt-get install default-jdk-headless maven), then run scripts/setup.sh, "
    "which puts JUnit 5 and AssertJ in Koderz's cache"
)
TESTS = r"@Test\b"
"""How a test is declared in a test file (what a tester's tests are counted by)."""
COUNTS = ((r"(\d+) tests successful", "passed"), (r"(\d+) tests failed", "failed"))
NOT_BUILT = r"(?m)^src/main/java/\S*\.java:\d+: error:"
"""What the compilation of the solution says when it fails, before the tests' (a test file's
errors name ``src/test``): the solution does not build."""
_JARS = f"{CACHE}/java"
_LAUNCHER = "java/junit-platform-console-standalone.jar"
_LINK = ".koderz-java"
"""A link in the exercise's folder to the jars: the launcher's path is relative to it, the
same where Koderz dumps the launcher's archive and in the sandbox, as the JVM requires (JDK
17 checks the archive's class path by name, then that it names the same file)."""
LINKS = ((_LINK, f"{CACHE}/java"),)
"""Symbolic links laid in the exercise's folder, ``(path, target)``."""
_JVM = ("-Xmx768m", "-XX:ReservedCodeCacheSize=64m", "-XX:CompressedClassSpaceSize=128m")
_JAVAC_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
"""For javac alone (measured on bowling's test class: 1.8 s of CPU without, 0.9 s with)."""


def lay(files: dict[str, str]) -> dict[str, str]:
    return {
        path: re.sub(r"@Disabled\([^)]*\)\s*\n", "", text) if path.endswith(".java") else text
        for path, text in files.items()
    }


@functools.lru_cache(maxsize=1)
def _jdk() -> str | None:
    """What names the JDK here in the archives' names (its JVM's version and javac's real
    path: a new JDK dumps new ones); None without a javac."""
    javac = shutil.which("javac")
    if javac is None:
        return None
    try:
        out = subprocess.run([javac, "-J-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{os.path.realpath(javac)}\0{out.stderr}"


def _archives() -> dict[str, str]:
    """The names of what Koderz keeps in the cache for the JDK here: the driver's folder
    (``driver``) and the class-data archives of javac's JVM and the launcher's (``javac``,
    ``junit``); the launcher's file is part of its archive's key: the JVM checks it is the
    one the archive was dumped with."""
    jdk = _jdk()
    if jdk is None:
        return {}
    try:
        jar = (cache_dir() / _LAUNCHER).stat()
    except OSError:
        jar = None
    key = digest(jdk + _DRIVER, 24)
    names = {"driver": f"javac-{key}.jar", "javac": f"javac-{key}.jsa"}
    if jar is not None:
        names["junit"] = f"junit-{digest(jdk + str((jar.st_size, jar.st_mtime_ns)), 24)}.jsa"
    return names


def _ready(tool: str) -> str | None:
    """The name of ``tool``'s entry in the cache, if Koderz has made it."""
    name = _archives().get(tool)
    return name if name and (cache_dir() / "java" / name).exists() else None


def _shared(tool: str) -> tuple[str, ...]:
    """The JVM flag that maps ``tool``'s archive inside the sandbox, if Koderz dumped it."""
    name = _ready(tool)
    return (f"-XX:SharedArchiveFile={_JARS}/{name}",) if name else ()


def _javac(*args: str) -> tuple[str, ...]:
    return ("javac", *(f"-J{flag}" for flag in (*_JVM, *_JAVAC_JVM)), "-encoding", "UTF-8", *args)


def _compile(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Compile each group of javac's arguments in turn, stopping at the first that fails:
    in one JVM through the driver where Koderz has compiled it, else by javac."""
    driver = _ready("driver")
    if driver is None:  # not prepared: one javac, the first group (the solution's)
        return _javac(*groups[0])
    argv = ["java", *_JVM, *_JAVAC_JVM, *_shared("javac"), "-cp", f"{_LINK}/{driver}"]
    argv.append("KoderzJavac")
    for index, group in enumerate(groups):
        argv += [*(["--"] if index else []), "-encoding", "UTF-8", *group]
    return tuple(argv)


def steps(files: dict[str, str], name: str) -> tuple[Step, ...]:
    del files, name
    jars = f"{_JARS}/assertj-core.jar"
    launcher = f"{_LINK}/{Path(_LAUNCHER).name}"
    main = ("-d", "build/main", "glob:src/main/java/**/*.java")
    test = (
        *("-d", "build/test", "-cp", f"build/main:{jars}:{launcher}"),
        "glob:src/test/java/**/*.java",
    )
    compiles: tuple[Step, ...] = (Step("check", _compile(main)), Step("test", _compile(main, test)))
    if _ready("driver") is None:  # not prepared: javac twice, the solution's the build
        compiles = (Step("build", _javac(*main)), Step("test", _javac(*test)))
    return (
        *compiles,
        Step(
            "test",
            (
                "java",
                *_JVM,
                *_shared("junit"),
                "-jar",
                launcher,
                "execute",
                "--disable-banner",
                "--disable-ansi-colors",
                "--details=summary",
                "-cp",
                f"build/main:build/test:{jars}",
                # The classes' folders, not AssertJ's jar too: it holds no test, and looking
                # through it costs the launcher a fifth of its run.
                "--scan-class-path=build/main:build/test",
            ),
        ),
    )


def script(source: str) -> tuple[dict[str, str], tuple[Step, ...]]:
    # MultiPL-E's programs are one class Problem, with javatuples on the class path.
    tuples = f"{_JARS}/javatuples.jar"
    return {"Problem.java": source}, (
        Step("build", _javac("-d", "out", "-cp", tuples, "Problem.java")),
        Step("test", ("java", *_JVM, "-ea", "-cp", f"out:{tuples}", "Problem")),
    )


_WARM = """import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

public class KoderzWarmTest {
    @Test
    public void passes() {
        assertEquals(2, 1 + 1);
        assertThat(List.of(1, 2)).containsExactly(1, 2);
        assertThrows(IllegalStateException.class, () -> { throw new IllegalStateException(); });
    }

    @Test
    public void fails() {
        assertThat(List.of(1)).containsExactly(2);
    }
}
"""
"""Koderz's own test class, compiled and run to dump the archives: the classes javac and
the launcher load for a run with a pass and a failure (never an exercise's code, which is
not run outside a sandbox)."""


_DRIVER = """import java.util.ArrayList;
import java.util.List;
import javax.tools.ToolProvider;

public class KoderzJavac {
    public static void main(String[] args) {
        var javac = ToolProvider.getSystemJavaCompiler();
        List<String> group = new ArrayList<>();
        for (int i = 0; i <= args.length; i++) {
            if (i < args.length && !args[i].equals("--")) {
                group.add(args[i]);
                continue;
            }
            int status = javac.run(null, null, null, group.toArray(new String[0]));
            if (status != 0) {
                System.exit(status);
            }
            group.clear();
        }
    }
}
"""
"""Koderz's javac driver: javac's arguments in groups split by ``--``, compiled in turn by
the JDK's compiler, the first failure's status its own (javac's output and statuses)."""


def prepare(files: dict[str, str], cache: Path) -> dict[str, str]:
    """Compile the javac driver into the cache, and dump javac's and the launcher's
    class-data archives there, once per JDK (and launcher), from Koderz's own test class,
    outside any sandbox; nothing to add to the exercise's files. The archives name the
    driver and the launcher by paths relative to the exercise's folder (``_LINK``)."""
    del files
    names = _archives()
    todo = {tool: cache / "java" / name for tool, name in names.items()}
    todo = {tool: path for tool, path in todo.items() if not path.exists()}
    if not todo:
        return {}
    launcher = f"{_LINK}/{Path(_LAUNCHER).name}"
    classpath = f"{_LINK}/assertj-core.jar:{launcher}"
    with tempfile.TemporaryDirectory(prefix="koderz-java-") as tmp:
        Path(tmp, "KoderzJavac.java").write_text(_DRIVER)
        Path(tmp, "KoderzWarmTest.java").write_text(_WARM)
        Path(tmp, _LINK).symlink_to(cache / "java")
        driver = cache / "java" / names["driver"]
        if "driver" in todo:
            _run(_javac("-d", "driver", "KoderzJavac.java"), tmp)
            built = Path(tmp, "driver", "KoderzJavac.class")
            if not built.is_file():
                return {}  # javac runs twice, as without the driver
            # A jar, not a folder: the JVM archives no class from a folder on its path.
            import zipfile

            with zipfile.ZipFile(Path(tmp, "driver.jar"), "w") as jar:
                jar.write(built, built.name)
            _publish(Path(tmp, "driver.jar"), driver)
        runs = {
            "javac": (
                *("java", *_JVM, *_JAVAC_JVM, "-cp", f"{_LINK}/{driver.name}", "KoderzJavac"),
                *("-d", ".", "-cp", classpath, "KoderzWarmTest.java"),
            ),
            "junit": (
                *("java", *_JVM, "-jar", launcher, "execute"),
                *("-cp", f".:{classpath}", "--select-class=KoderzWarmTest"),
            ),
        }
        for tool in ("javac", "junit"):  # javac first: the launcher runs what it compiled
            dumped = Path(tmp) / f"{tool}.jsa"
            argv = runs[tool]
            _run((argv[0], f"-XX:ArchiveClassesAtExit={dumped}", *argv[1:]), tmp)
            if tool in todo and dumped.is_file():  # else it runs without one, as before
                _publish(dumped, todo[tool])
    return {}


def _run(argv: tuple[str, ...], cwd: str) -> None:
    subprocess.run(argv, cwd=cwd, capture_output=True, timeout=600)


def _publish(made: Path, target: Path) -> None:
    """Put a file into the cache whole, or not at all."""
    part = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.copy(made, part)
    os.replace(part, target)
