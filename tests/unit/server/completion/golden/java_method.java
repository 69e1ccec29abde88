package com.example;

import java.util.ArrayList;
import java.util.List;

public class Inventory {
    private final List<String> items = new ArrayList<>();

    /** Adds an item unless it is already there. */
    public boolean add(String item) {
        if (items.contains(item)) {
            return false;
        }
        <|cursor|>
    }
}
