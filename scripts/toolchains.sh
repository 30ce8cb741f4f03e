#!/usr/bin/env bash
# The toolchains of the polyglot exercises and MultiPL-E programs (docs/languages.md):
# what is missing is installed, what is present is left alone, so a second run takes
# seconds.
#
#   bash scripts/toolchains.sh            (scripts/setup.sh runs it)
#
# Debian/Ubuntu: g++ cmake make, Go, a JDK and Maven, Node and npm from apt; Rust from
# rustup (apt's cargo if rustup cannot be had). Then, into Koderz's toolchain cache
# (KODERZ_TOOLCHAINS, default ~/.cache/koderz/toolchains), which the sandbox binds
# read-only: jest and babel from npm, JUnit 5's console launcher, AssertJ and javatuples
# from Maven Central (no Gradle, no wrapper download). `koderz check --languages` says what
# runs afterwards. An exercise's own crates and Go modules are fetched by Koderz when it
# first needs them, outside any sandbox.
set -euo pipefail

cache="${KODERZ_TOOLCHAINS:-$HOME/.cache/koderz/toolchains}"
mkdir -p "$cache"

need=()
command -v g++ >/dev/null || need+=(g++)
command -v cmake >/dev/null || need+=(cmake)
command -v make >/dev/null || need+=(make)
command -v go >/dev/null || need+=(golang-go)
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "toolchains: installing ${need[*]}" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            ca-certificates "${need[@]}" >/dev/null
    else
        echo "toolchains: no apt-get here; install ${need[*]} yourself." >&2
    fi
fi

if ! command -v cargo >/dev/null; then
    [ -x "$HOME/.cargo/bin/cargo" ] || {
        curl -fsSL https://sh.rustup.rs | sh -s -- -y --profile minimal -q >/dev/null 2>&1 ||
            { command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive \
                ${sudo:-} apt-get install -y -qq --no-install-recommends cargo >/dev/null; } ||
            echo "toolchains: could not install Rust; see https://rustup.rs" >&2
    }
fi

# jest and babel, once, for every JavaScript exercise (their package.json asks for these).
if command -v npm >/dev/null && [ ! -e "$cache/npm/node_modules/jest/bin/jest.js" ]; then
    mkdir -p "$cache/npm"
    (
        cd "$cache/npm"
        [ -f package.json ] || echo '{"private": true}' >package.json
        npm install --silent --no-audit --no-fund \
            jest@29 babel-jest@29 @babel/core@7 @exercism/babel-preset-javascript@0.2.1 \
            core-js@3.37 >/dev/null
    ) || echo "toolchains: npm could not install jest and babel" >&2
fi

# JUnit 5 and AssertJ (the exercises' build.gradle asks for these) and javatuples
# (MultiPL-E's Java programs), from Maven Central by Maven itself.
jar() { # group:artifact:version name
    [ -s "$cache/java/$2.jar" ] && return 0
    command -v mvn >/dev/null || return 0
    mkdir -p "$cache/java"
    local tmp
    tmp="$(mktemp -d)"
    if mvn -q -B dependency:copy -Dartifact="$1" -DoutputDirectory="$tmp" \
        -Dmdep.stripVersion=true >/dev/null 2>&1; then
        mv "$tmp"/*.jar "$cache/java/$2.jar"
    else
        echo "toolchains: Maven could not fetch $1" >&2
    fi
    rm -rf "$tmp"
}
jar org.junit.platform:junit-platform-console-standalone:1.14.1 junit-platform-console-standalone
jar org.assertj:assertj-core:3.27.7 assertj-core
jar org.javatuples:javatuples:1.2 javatuples

echo "toolchains: done ($cache)"
