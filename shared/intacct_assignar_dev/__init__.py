"""What development needs beside the product, and no Lambda ships: the Intacct and Assignar emulators, the stack of
`template.yaml` on moto, the whole-system demo, and the `demo` and `emulate` commands the CLI offers when this
package is installed."""
