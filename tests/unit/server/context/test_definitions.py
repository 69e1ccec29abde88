"""Definitions read from syntax trees: names, kinds, containers, signatures and docs."""

from __future__ import annotations

import pytest

from ghostwright.server.context.definitions import extract_definitions
from ghostwright.server.context.languages import new_parser, spec_for

SOURCES = {
    "a.py": '''import os

@decorator
class Foo(Base):
    """Doc of Foo."""

    def bar(self, x: int) -> int:
        """Bar doc."""
        return x

    async def baz(self):
        pass

def top(a,
        b):
    # not a docstring
    return a
''',
    "a.js": """import fs from "fs";
/** Adds. */
export function add(a, b) { return a + b; }
class Foo extends Bar {
  method(y) { return y; }
}
const arrow = (q) => q * 2;
""",
    "a.ts": """interface Shape { area(): number; }
type Id = string;
export async function load(id: Id): Promise<Shape> { return null as any; }
""",
    "a.go": """package main

// Point is a point.
type Point struct { X int }
func (p *Point) Norm() float64 { return 0 }
func main() {}
""",
    "a.rs": """/// A point.
pub struct Point { x: i32 }
impl Point {
    /// Norm.
    pub fn norm(&self) -> f64 { 0.0 }
}
mod m { fn inner() {} }
""",
    "A.java": """package x;
/** Doc. */
public class Foo {
    public Foo(int x) { }
    /** Adds. */
    public int add(int a) { return a; }
}
""",
    "a.c": """#include <stdio.h>
/* Adds two. */
static int add(int a, int b) { return a + b; }
int *make(void) { return 0; }
typedef struct { int y; } pt;
""",
    "a.cpp": """namespace ns {
class Foo {
public:
    int get() const { return 1; }
};
}
template <typename T> T id(T x) { return x; }
""",
    "a.lua": """-- Adds.
local function add(a, b) return a + b end
function M.sub(a, b) return a - b end
local f = function(y) return y end
""",
}

EXPECTED = {
    "a.py": [
        ("class", "Foo", None, "@decorator\nclass Foo(Base):", '"""Doc of Foo."""'),
        ("method", "bar", "Foo", "def bar(self, x: int) -> int:", '"""Bar doc."""'),
        ("method", "baz", "Foo", "async def baz(self):", ""),
        ("function", "top", None, "def top(a,\n        b):", ""),
    ],
    "a.js": [
        ("function", "add", None, "export function add(a, b) {", "/** Adds. */"),
        ("class", "Foo", None, "class Foo extends Bar {", ""),
        ("method", "method", "Foo", "method(y) {", ""),
        ("function", "arrow", None, "const arrow = (q) =>", ""),
    ],
    "a.ts": [
        ("class", "Shape", None, "interface Shape {", ""),
        ("method", "area", "Shape", "area(): number", ""),
        ("type", "Id", None, "type Id = string;", ""),
        ("function", "load", None, "export async function load(id: Id): Promise<Shape> {", ""),
    ],
    "a.go": [
        ("type", "Point", None, "type Point struct { X int }", "// Point is a point."),
        ("method", "Norm", "Point", "func (p *Point) Norm() float64 {", ""),
        ("function", "main", None, "func main() {", ""),
    ],
    "a.rs": [
        ("type", "Point", None, "pub struct Point {", "/// A point."),
        ("class", "Point", None, "impl Point {", ""),
        ("method", "norm", "Point", "pub fn norm(&self) -> f64 {", "/// Norm."),
        ("function", "inner", None, "fn inner() {", ""),
    ],
    "A.java": [
        ("class", "Foo", None, "public class Foo {", "/** Doc. */"),
        ("method", "Foo", "Foo", "public Foo(int x) {", ""),
        ("method", "add", "Foo", "public int add(int a) {", "/** Adds. */"),
    ],
    "a.c": [
        ("function", "add", None, "static int add(int a, int b) {", "/* Adds two. */"),
        ("function", "make", None, "int *make(void) {", ""),
        ("type", "pt", None, "typedef struct { int y; } pt;", ""),
    ],
    "a.cpp": [
        ("class", "Foo", None, "class Foo {", ""),
        ("method", "get", "Foo", "int get() const {", ""),
        ("function", "id", None, "template <typename T> T id(T x) {", ""),
    ],
    "a.lua": [
        ("function", "add", None, "local function add(a, b)", "-- Adds."),
        ("function", "sub", None, "function M.sub(a, b)", ""),
        ("function", "f", None, "local f = function(y)", ""),
    ],
}


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_definitions(path: str) -> None:
    spec = spec_for(None, path)
    source = SOURCES[path].encode()
    tree = new_parser(spec).parse(source)
    found = extract_definitions(tree, source, spec, path)
    assert [(d.kind, d.name, d.container, d.signature, d.doc) for d in found] == EXPECTED[path]
    assert all(d.path == path and d.language == spec.name for d in found)


def test_lines_are_where_the_definition_starts() -> None:
    spec = spec_for("python")
    source = SOURCES["a.py"].encode()
    found = extract_definitions(new_parser(spec).parse(source), source, spec, "a.py")
    assert [d.line for d in found] == [2, 6, 10, 13]


def test_deadline_stops_extraction() -> None:
    spec = spec_for("python")
    source = SOURCES["a.py"].encode()
    assert extract_definitions(new_parser(spec).parse(source), source, spec, "a.py", 0.0) == []
