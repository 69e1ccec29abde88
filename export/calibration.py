"""Text the exporter runs through a model to learn which inputs of each layer matter.

Written for Ghostwright (no one else's code), in the shapes the server sends: source files in
several languages, a repository-level fill-in-the-middle prompt and a chat turn. Special tokens
are written as text; a vocabulary that has them reads them as single tokens, one that lacks them
reads plain text. It must not overlap what the benchmarks measure (the standard library's
argparse, difflib and textwrap; HumanEval; the packages of ``bench/cross_file.py``).
"""

from __future__ import annotations

PYTHON = '''from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Ledger:
    """Running balances per account, saved as JSON lines."""

    path: Path
    balances: dict[str, int] = field(default_factory=dict)

    def post(self, account: str, cents: int) -> int:
        if not account:
            raise ValueError("an entry needs an account")
        self.balances[account] = self.balances.get(account, 0) + cents
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"account": account, "cents": cents}) + "\\n")
        return self.balances[account]

    @classmethod
    def replay(cls, path: Path) -> "Ledger":
        ledger = cls(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            ledger.balances[entry["account"]] = ledger.balances.get(entry["account"], 0) + entry["cents"]
        return ledger


def chunked(items: list[int], size: int) -> list[list[int]]:
    """Split items into lists of at most size elements, keeping their order."""
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    return [items[i:i + size] for i in range(0, len(items), size)]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
'''

TYPESCRIPT = '''import { readFile } from "node:fs/promises";

export interface Task {
  id: number;
  title: string;
  done: boolean;
  tags: string[];
}

export async function loadTasks(path: string): Promise<Task[]> {
  const text = await readFile(path, "utf8");
  return JSON.parse(text) as Task[];
}

export function pending(tasks: Task[], tag?: string): Task[] {
  return tasks.filter((task) => !task.done && (tag === undefined || task.tags.includes(tag)));
}

export class Debouncer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly delayMs: number) {}

  run(action: () => void): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(action, this.delayMs);
  }
}
'''

RUST = '''use std::collections::HashMap;

/// Counts how often each word occurs, ignoring case.
pub fn word_counts(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

pub struct Ring<T> {
    items: Vec<Option<T>>,
    head: usize,
    len: usize,
}

impl<T> Ring<T> {
    pub fn with_capacity(capacity: usize) -> Self {
        Ring { items: (0..capacity).map(|_| None).collect(), head: 0, len: 0 }
    }

    pub fn push(&mut self, item: T) -> Option<T> {
        let slot = (self.head + self.len) % self.items.len();
        if self.len == self.items.len() {
            self.head = (self.head + 1) % self.items.len();
            return self.items[slot].replace(item);
        }
        self.len += 1;
        self.items[slot] = Some(item);
        None
    }
}
'''

GO_AND_SQL = '''package cache

import (
	"sync"
	"time"
)

type entry struct {
	value   []byte
	expires time.Time
}

// Cache keeps values until they expire; it is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	entries map[string]entry
}

func (c *Cache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return e.value, true
}

-- monthly revenue per customer, newest month first
SELECT c.name, date_trunc('month', o.created_at) AS month, SUM(o.total) AS revenue
FROM orders o
JOIN customers c ON c.id = o.customer_id
WHERE o.status = 'paid'
GROUP BY c.name, month
ORDER BY month DESC, revenue DESC;
'''

C_AND_SHELL = '''#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reverse a string in place and return it. */
char *reverse(char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n / 2; i++) {
        char t = s[i];
        s[i] = s[n - 1 - i];
        s[n - 1 - i] = t;
    }
    return s;
}

#!/usr/bin/env bash
set -euo pipefail
for f in "$@"; do
  if [[ -f "$f" ]]; then
    wc -l "$f"
  else
    echo "skipping $f: not a file" >&2
  fi
done
'''

FIM = ('<|repo_name|>inventory\n<|file_sep|>inventory/models.py\n'
       'class Item:\n    def __init__(self, sku: str, count: int) -> None:\n'
       '        self.sku = sku\n        self.count = count\n\n'
       '<|file_sep|>inventory/stock.py\n<|fim_prefix|>from inventory.models import Item\n\n\n'
       'def restock(items: list[Item], sku: str, amount: int) -> Item:\n    for item in items:\n'
       '        if item.sku == sku:\n            <|fim_suffix|>\n            return item\n'
       '    raise KeyError(sku)\n<|fim_middle|>item.count += amount')

CHAT = ('<|im_start|>system\nYou are a helpful coding assistant.<|im_end|>\n<|im_start|>user\n'
        'Write a Python function that returns the n-th Fibonacci number iteratively.<|im_end|>\n'
        '<|im_start|>assistant\nHere is an iterative version:\n\n```python\ndef fibonacci(n: int) -> int:\n'
        '    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n```\n\n'
        'It runs in O(n) time and constant memory.<|im_end|>\n')

TEXTS = (PYTHON, TYPESCRIPT, RUST, GO_AND_SQL, C_AND_SHELL, FIM, CHAT)
