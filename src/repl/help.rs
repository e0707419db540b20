//! `help()`, a builtin as on MicroPython: a page about the REPL, `help(obj)` lists what `obj`
//! holds the way MicroPython's does, `help('modules')` the modules built in.

use microloop_runtime::rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::{PyFunction, PyList, PyModule, PyStr, PyTuple, PyType},
    function::OptionalArg,
};

/// What `help()` prints.
const TEXT: &str = "\
microloop runs MicroPython asyncio programs on the RustPython VM.

Keys at the >>> prompt:
  Ctrl-A  on an empty line: raw REPL, the protocol mpremote and pyboard.py speak
  Ctrl-B  on an empty line: show the banner again; in the raw REPL, come back here
  Ctrl-C  stop the running program, or drop the line being typed
  Ctrl-D  on an empty line: quit
  Ctrl-E  on an empty line: paste mode (Ctrl-D runs what was pasted, Ctrl-C drops it)
  Tab     complete a name or an attribute, or list those that fit
  Up/Down earlier lines, kept in ~/.microloop_history

help(obj) lists an object's attributes; help('modules') the modules built into microloop.
";

/// Makes `help` a builtin.
pub fn install(vm: &VirtualMachine) -> PyResult<()> {
    let help = vm.new_function("help", help);
    vm.builtins.set_attr("help", help, vm)
}

/// Prints help on the REPL, on an object, or on the modules.
fn help(obj: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
    let text = match obj {
        OptionalArg::Missing => TEXT.to_owned(),
        OptionalArg::Present(obj) if obj.downcast_ref::<PyStr>().and_then(|s| s.to_str()) == Some("modules") => {
            modules(vm)?
        }
        OptionalArg::Present(obj) => describe(&obj, vm)?,
    };
    let stdout = vm.sys_module.get_attr("stdout", vm)?;
    vm.call_method(&stdout, "write", (vm.ctx.new_str(text),))?;
    Ok(())
}

/// `object X is of type T`, then a line per entry of the namespace MicroPython shows: a
/// module's globals, a class's own dictionary, an instance's class's. Entries the VM provides
/// for every object of a kind (dunder slots, `__doc__`, `__dict__`) are left out; functions a
/// program defines under dunder names (`__init__`) are kept.
fn describe(obj: &PyObjectRef, vm: &VirtualMachine) -> PyResult<String> {
    let mut out = format!("object {} is of type {}\n", obj.str(vm)?, obj.class().name());
    let items = if let Some(module) = obj.downcast_ref::<PyModule>() {
        module.dict().items_vec()
    } else {
        let owner: PyObjectRef = if obj.downcast_ref::<PyType>().is_some() { obj.clone() } else { obj.class().to_owned().into() };
        let namespace = owner.get_attr("__dict__", vm)?;
        let entries = vm.call_method(&namespace, "items", ())?;
        let list = vm.builtins.get_attr("list", vm)?.call((entries,), vm)?;
        let list = list.downcast::<PyList>().map_err(|_| vm.new_type_error("list() did not give a list"))?;
        let pairs = list.borrow_vec();
        pairs
            .iter()
            .filter_map(|item| match item.downcast_ref::<PyTuple>()?.as_slice() {
                [name, value] => Some((name.clone(), value.clone())),
                _ => None,
            })
            .collect()
    };
    for (name, value) in items {
        let name = name.str(vm)?.to_string();
        if name.starts_with("__") && name.ends_with("__") && value.downcast_ref::<PyFunction>().is_none() {
            continue;
        }
        let shown = value.str(vm).map(|s| s.to_string()).unwrap_or_else(|_| format!("<{}>", value.class().name()));
        out.push_str(&format!("  {name} -- {shown}\n"));
    }
    Ok(out)
}

/// The modules compiled into microloop, four to a line.
fn modules(vm: &VirtualMachine) -> PyResult<String> {
    let names = vm.sys_module.get_attr("builtin_module_names", vm)?;
    let names = names.downcast::<PyTuple>().map_err(|_| vm.new_type_error("sys.builtin_module_names"))?;
    let mut names: Vec<String> = names
        .as_slice()
        .iter()
        .filter_map(|n| n.downcast_ref::<PyStr>().and_then(|s| s.to_str()).map(str::to_owned))
        .filter(|n| !n.starts_with('_'))
        .collect();
    names.sort();
    let mut out = String::new();
    for row in names.chunks(4) {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:<18}")).collect();
        out.push_str(cells.concat().trim_end());
        out.push('\n');
    }
    out.push_str("and the Python standard library frozen into microloop, and modules found on sys.path\n");
    Ok(out)
}
