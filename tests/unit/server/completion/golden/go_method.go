package stack

import "errors"

// Stack is a LIFO of ints.
type Stack struct {
	items []int
}

// Pop removes and returns the top item.
func (s *Stack) Pop() (int, error) {
	if len(s.items) == 0 {
		return 0, errors.New("empty stack")
	}
	<|cursor|>
}
