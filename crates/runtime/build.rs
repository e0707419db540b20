// py_freeze! reads python-lib/ at compile time but does not track it: rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../../python-lib");
}
