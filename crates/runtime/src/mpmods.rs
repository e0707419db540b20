//! MicroPython's companion modules: `micropython`, the `time.ticks_*` family,
//! `sys.print_exception`, and the MicroPython-only functions of `gc` (`mem_free`, `mem_alloc`,
//! `threshold`), `os` (`ilistdir`) and `time` (`mktime` taking MicroPython's 8-tuple).

use rustpython_vm::{PyResult, VirtualMachine};

pub(crate) use micropython::module_def as micropython_module_def;
pub(crate) use mltime::module_def as time_ext_module_def;

/// Adds the MicroPython-only functions to the VM's `time`, `gc`, `os` and `sys` modules.
pub(crate) fn extend_std_modules(vm: &VirtualMachine) -> PyResult<()> {
    let time = vm.import("time", 0)?;
    let ext = vm.import("_microloop_time", 0)?;
    for name in mltime::NAMES {
        time.set_attr(*name, ext.get_attr(*name, vm)?, vm)?;
    }
    let gc = vm.import("gc", 0)?;
    for name in ["mem_free", "mem_alloc", "threshold"] {
        gc.set_attr(name, ext.get_attr(name, vm)?, vm)?;
    }
    // `os` is frozen Python that takes every public name of `posix` (loaded at start-up, unlike
    // `os`) when it is first imported.
    let posix = vm.import("posix", 0)?;
    posix.set_attr("ilistdir", ext.get_attr("ilistdir", vm)?, vm)?;
    let print_exception = ext.get_attr("print_exception", vm)?;
    vm.sys_module.set_attr("print_exception", print_exception, vm)?;
    set_implementation(vm)
}

/// The version of MicroPython whose asyncio API and behaviour microloop follows, as
/// `sys.implementation.version` gives it.
const MICROPYTHON_VERSION: (u8, u8, u8) = (1, 28, 0);

/// `sys.implementation` as MicroPython's unix port describes itself, for the libraries that
/// choose their MicroPython code path by `sys.implementation.name`: `name` is `micropython`,
/// `version` a 4-tuple, `_machine` names the platform and microloop, `_build` the build. The
/// VM's own fields (`cache_tag`, which the import system reads) stay. `_mpy` is left out on
/// purpose: microloop loads no `.mpy` files, and `mip` asks for compiled packages when the
/// attribute is there and for source when it is not.
fn set_implementation(vm: &VirtualMachine) -> PyResult<()> {
    let implementation = vm.sys_module.get_attr("implementation", vm)?;
    let (major, minor, micro) = MICROPYTHON_VERSION;
    let version: rustpython_vm::PyObjectRef = vm.new_tuple((major, minor, micro, vm.ctx.new_str(""))).into();
    let machine = format!("linux [microloop {} on RustPython 0.6.0] version", env!("CARGO_PKG_VERSION"));
    implementation.set_attr("name", vm.ctx.new_str("micropython"), vm)?;
    implementation.set_attr("version", version, vm)?;
    implementation.set_attr("_machine", vm.ctx.new_str(machine), vm)?;
    implementation.set_attr("_build", vm.ctx.new_str("microloop"), vm)?;
    // MicroPython's names the language version, then itself; this one names microloop in the
    // shape `platform` parses (`version (build, date) [compiler]`).
    let version_info = vm.sys_module.get_attr("version_info", vm)?;
    let part = |i: usize| -> PyResult<String> { Ok(version_info.get_item(&i, vm)?.str(vm)?.to_string()) };
    let version = format!(
        "{}.{}.{} (microloop {}, MicroPython dialect) [RustPython 0.6.0]",
        part(0)?,
        part(1)?,
        part(2)?,
        env!("CARGO_PKG_VERSION")
    );
    vm.sys_module.set_attr("version", vm.ctx.new_str(version), vm)?;
    Ok(())
}

/// Sets the cycle collector's thresholds for the interpreter `vm` belongs to (from the
/// interpreter's init hook, before the standard library is set up).
///
/// The VM collects its youngest generation after every 2,000 net container allocations by
/// default. A program that creates tasks in bulk then pays for many collections that each walk
/// the tasks still alive: bench/create.py runs 682 M instructions with 2,000 and 590 M with
/// 5,000 (callgrind), no fewer with more. A larger young generation no longer pays on programs
/// that allocate and drop objects (bench/objects.py: 1,498 M instructions with 2,000 to 10,000)
/// and falls out of the CPU's caches: 50,000, the value RustPython 0.5's costlier collector
/// wanted, made bench/objects.py about 10% slower in wall time and bench/timers.py's p99 later.
/// Scripts can still call gc.set_threshold or gc.collect.
pub(crate) fn set_gc_thresholds(vm: &VirtualMachine) {
    vm.state.gc.set_threshold(GC_GEN0_THRESHOLD, Some(10), Some(0));
}

/// Net container allocations between two collections of the youngest generation.
const GC_GEN0_THRESHOLD: u32 = 5_000;

#[rustpython_vm::pymodule(name = "micropython")]
mod micropython {
    use std::cell::Cell;

    use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine, function::OptionalArg};

    use crate::asyncio::core::sched;

    thread_local! {
        static OPT_LEVEL: Cell<i64> = const { Cell::new(0) };
        static HEAP_LOCK_DEPTH: Cell<i64> = const { Cell::new(0) };
    }

    /// Declares a constant; returns its argument.
    #[pyfunction(name = "const")]
    fn const_(value: PyObjectRef) -> PyObjectRef {
        value
    }

    /// Queues `func(arg)` to run on the loop's thread between task steps (a soft IRQ).
    /// RuntimeError "schedule queue full" when too many are pending.
    #[pyfunction]
    fn schedule(func: PyObjectRef, arg: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        if !func.is_callable() {
            return Err(vm.new_type_error("'func' is not callable"));
        }
        sched().schedule(func, arg, vm)
    }

    /// Gets, or sets and returns None, the optimisation level (recorded only).
    #[pyfunction]
    fn opt_level(level: OptionalArg<i64>) -> Option<i64> {
        match level {
            OptionalArg::Present(l) => {
                OPT_LEVEL.with(|c| c.set(l));
                None
            }
            OptionalArg::Missing => Some(OPT_LEVEL.with(|c| c.get())),
        }
    }

    /// Counts a heap lock level. The host heap is never actually locked: allocation goes on.
    #[pyfunction]
    fn heap_lock() {
        HEAP_LOCK_DEPTH.with(|d| d.set(d.get() + 1));
    }

    /// Drops one heap lock level and returns the levels still held.
    #[pyfunction]
    fn heap_unlock() -> i64 {
        HEAP_LOCK_DEPTH.with(|d| {
            d.set((d.get() - 1).max(0));
            d.get()
        })
    }

    /// The number of heap lock levels held.
    #[pyfunction]
    fn heap_locked() -> i64 {
        HEAP_LOCK_DEPTH.with(|d| d.get())
    }

    /// Accepted for compatibility: exceptions never need an emergency buffer here.
    #[pyfunction]
    fn alloc_emergency_exception_buf(_size: PyObjectRef) {}

    /// Accepted for compatibility (the argument must be an int, as in MicroPython): Ctrl-C
    /// always raises KeyboardInterrupt here.
    #[pyfunction]
    fn kbd_intr(args: rustpython_vm::function::FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        crate::pinmods::mp_arity(&args, 1, 1, 0, vm)?;
        crate::pinmods::mp_int(&args.args[0], vm).map(drop)
    }

    /// Bytes of the thread's machine stack in use, from its top down to here (MicroPython
    /// gives the C stack its interpreter uses).
    #[pyfunction]
    fn stack_use(args: rustpython_vm::function::FuncArgs, vm: &VirtualMachine) -> PyResult<i64> {
        crate::pinmods::mp_arity(&args, 0, 0, 0, vm)?;
        let here = 0u8;
        let sp = std::ptr::addr_of!(here) as usize;
        Ok(stack_top().map_or(0, |top| top.saturating_sub(sp) as i64))
    }

    /// The high end of this thread's stack.
    fn stack_top() -> Option<usize> {
        // SAFETY: `attr` is initialised by pthread_getattr_np before it is read, and destroyed
        // once; the out-pointers are valid.
        unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
                return None;
            }
            let mut addr: *mut libc::c_void = std::ptr::null_mut();
            let mut size: libc::size_t = 0;
            let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
            libc::pthread_attr_destroy(&mut attr);
            ok.then(|| addr as usize + size)
        }
    }

    /// Prints the process's memory use (MicroPython prints its heap statistics).
    #[pyfunction]
    fn mem_info(_verbose: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
        let rss = resident_bytes().map_or_else(|| "unknown".to_owned(), |b| b.to_string());
        let text = format!("mem: resident {rss} bytes (microloop has no MicroPython heap)\n");
        let stdout = vm.sys_module.get_attr("stdout", vm)?;
        crate::traceback::write_to(vm, &stdout, &text)
    }

    /// microloop's own: prints every task not done, what it waits on (a sleep and its
    /// deadline, an Event, a Lock, a stream, a gather, another task...) and where its Python
    /// code is parked, in the manner of `mem_info()`.
    #[pyfunction]
    fn task_info(vm: &VirtualMachine) -> PyResult<()> {
        crate::asyncio::monitor::print_task_info(vm)
    }

    /// Accepted for compatibility; prints nothing.
    #[pyfunction]
    fn qstr_info(_verbose: OptionalArg<PyObjectRef>) {}

    /// Decorator accepted for compatibility: the function runs as ordinary Python.
    #[pyfunction]
    fn native(f: PyObjectRef) -> PyObjectRef {
        f
    }

    /// Decorator accepted for compatibility: the function runs as ordinary Python.
    #[pyfunction]
    fn viper(f: PyObjectRef) -> PyObjectRef {
        f
    }

    /// Decorator accepted for compatibility: the function runs as ordinary Python.
    #[pyfunction]
    fn bytecode(f: PyObjectRef) -> PyObjectRef {
        f
    }

    fn resident_bytes() -> Option<u64> {
        super::resident_bytes()
    }
}

/// The process's resident memory in bytes.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// What the machine could still give the process (`MemAvailable`), in bytes.
fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `gc.mem_alloc()` and `gc.mem_free()`: bytes of heap in use and bytes left before the heap
/// limit. With microloop's allocator installed (the command line's), the heap in use is its
/// count ([`microloop_core::heap::used`]) and what is left is the limit (`-X heapsize`, or the
/// default share of the machine) less that, so the two add up to the limit, as MicroPython's
/// add up to its heap. Under a host that did not install it, the heap in use is the
/// process's resident memory and what is left the limit less that, or without a limit the
/// memory the machine has available.
fn heap_figures() -> (u64, u64) {
    let counted = microloop_core::heap::used() as u64;
    let used = if counted > 0 { counted } else { resident_bytes().unwrap_or(0) };
    let free = match microloop_core::heap::limit() {
        Some(limit) => (limit as u64).saturating_sub(used),
        None => available_bytes().unwrap_or(0),
    };
    (used, free)
}

#[rustpython_vm::pymodule(name = "_microloop_time")]
mod mltime {
    use microloop_core::ticks::{TICKS_HALFPERIOD, ticks_add as add, ticks_diff as diff, ticks_wrap};
    use rustpython_vm::{
        AsObject, PyObjectRef, PyResult, VirtualMachine,
        builtins::PyBaseExceptionRef,
        function::{FuncArgs, OptionalArg},
    };

    use crate::asyncio::core::sched;

    /// The names copied into `time`.
    pub(super) const NAMES: &[&str] =
        &["ticks_ms", "ticks_us", "ticks_cpu", "ticks_add", "ticks_diff", "sleep", "sleep_ms", "sleep_us", "mktime"];

    /// Milliseconds on the loop's clock, wrapping at 2**30.
    #[pyfunction]
    fn ticks_ms() -> i64 {
        ticks_wrap(sched().read_us() / 1000)
    }

    /// Microseconds on the loop's clock, wrapping at 2**30.
    #[pyfunction]
    fn ticks_us() -> i64 {
        ticks_wrap(sched().read_us())
    }

    /// The finest counter available: microseconds here.
    #[pyfunction]
    fn ticks_cpu() -> i64 {
        ticks_wrap(sched().read_us())
    }

    /// `ticks + delta` modulo 2**30. OverflowError if `delta` is outside [-2**29, 2**29).
    #[pyfunction]
    fn ticks_add(ticks: i64, delta: i64, vm: &VirtualMachine) -> PyResult<i64> {
        if !(-TICKS_HALFPERIOD..TICKS_HALFPERIOD).contains(&delta) {
            return Err(vm.new_overflow_error("ticks interval overflow"));
        }
        Ok(add(ticks, delta))
    }

    /// Signed distance from `start` to `end` in ticks, correct across wrap-around.
    #[pyfunction]
    fn ticks_diff(end: i64, start: i64) -> i64 {
        diff(end, start)
    }

    /// Blocks for `secs` seconds, an int or a float (advances a virtual clock instead).
    #[pyfunction]
    fn sleep(secs: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        sched().block_for(crate::asyncio::core::seconds_to_us(&secs, vm)?, vm)
    }

    /// Blocks for `ms` milliseconds (advances a virtual clock instead of sleeping); runs pending
    /// `micropython.schedule` callbacks and pin interrupts meanwhile, as MicroPython does.
    #[pyfunction]
    fn sleep_ms(ms: i64, vm: &VirtualMachine) -> PyResult<()> {
        sched().block_for(ms.max(0) as u64 * 1000, vm)
    }

    /// Blocks for `us` microseconds (advances a virtual clock instead of sleeping).
    #[pyfunction]
    fn sleep_us(us: i64, vm: &VirtualMachine) -> PyResult<()> {
        sched().block_for(us.max(0) as u64, vm)
    }

    /// `gc.mem_alloc()`: bytes of heap in use (see `heap_figures`).
    #[pyfunction]
    fn mem_alloc(args: FuncArgs, vm: &VirtualMachine) -> PyResult<u64> {
        crate::pinmods::mp_arity(&args, 0, 0, 0, vm)?;
        Ok(super::heap_figures().0)
    }

    /// `gc.mem_free()`: bytes of heap left before the limit (see `heap_figures`).
    #[pyfunction]
    fn mem_free(args: FuncArgs, vm: &VirtualMachine) -> PyResult<u64> {
        crate::pinmods::mp_arity(&args, 0, 0, 0, vm)?;
        Ok(super::heap_figures().1)
    }

    /// `gc.threshold()` gives the allocation threshold (-1 when none is set); `gc.threshold(n)`
    /// sets it to `n` bytes, rounded down to MicroPython's 32-byte blocks (a negative `n` removes
    /// it). The VM's collector counts container objects rather than bytes: a threshold of `n`
    /// bytes collects the youngest generation after `n / 128` net container allocations (at
    /// least 100); removing it restores microloop's default.
    #[pyfunction]
    fn threshold(args: FuncArgs, vm: &VirtualMachine) -> PyResult<Option<i64>> {
        crate::pinmods::mp_arity(&args, 0, 1, 0, vm)?;
        let Some(n) = args.args.into_iter().next() else { return Ok(Some(GC_THRESHOLD.with(|t| t.get()))) };
        let n = crate::pinmods::mp_int(&n, vm)?;
        if n < 0 {
            GC_THRESHOLD.with(|t| t.set(-1));
            super::set_gc_thresholds(vm);
        } else {
            GC_THRESHOLD.with(|t| t.set(n / 32 * 32));
            let objects = (n / 128).clamp(100, u32::MAX as i64) as u32;
            vm.state.gc.set_threshold(objects, None, None);
        }
        Ok(None)
    }

    thread_local! {
        /// The threshold `gc.threshold` last set, in bytes; -1 for none.
        static GC_THRESHOLD: std::cell::Cell<i64> = const { std::cell::Cell::new(-1) };
    }

    /// `os.ilistdir(dir='.')`: an iterator of `(name, type, inode)` for each entry of `dir`,
    /// as MicroPython's unix port gives them: `type` is the file-type bits of `st_mode`
    /// (0x4000 a directory, 0x8000 a file, 0xa000 a symbolic link, ...), names are bytes when
    /// `dir` is.
    #[pyfunction]
    fn ilistdir(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        crate::pinmods::mp_arity(&args, 0, 1, 0, vm)?;
        let dir = args.args.into_iter().next().map_or(OptionalArg::Missing, OptionalArg::Present);
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::{DirEntryExt, FileTypeExt};
        use rustpython_vm::{builtins::{PyBytes, PyStr}, convert::{ToPyException, ToPyObject}};
        let (path, as_bytes): (std::path::PathBuf, bool) = match dir {
            OptionalArg::Missing => (".".into(), false),
            OptionalArg::Present(d) => {
                if let Some(s) = d.downcast_ref::<PyStr>() {
                    (s.to_string_lossy().into_owned().into(), false)
                } else if let Some(b) = d.downcast_ref::<PyBytes>() {
                    (std::ffi::OsStr::from_bytes(b.as_bytes()).into(), true)
                } else {
                    let name = d.class().name().to_string();
                    return Err(vm.new_type_error(format!("can't convert '{name}' object to str implicitly")));
                }
            }
        };
        let mut items = Vec::new();
        for entry in std::fs::read_dir(&path).map_err(|e| e.to_pyexception(vm))? {
            let entry = entry.map_err(|e| e.to_pyexception(vm))?;
            let kind = entry.file_type().ok().map_or(0, |t| {
                if t.is_dir() {
                    0x4000
                } else if t.is_file() {
                    0x8000
                } else if t.is_symlink() {
                    0xa000
                } else if t.is_fifo() {
                    0x1000
                } else if t.is_char_device() {
                    0x2000
                } else if t.is_block_device() {
                    0x6000
                } else if t.is_socket() {
                    0xc000
                } else {
                    0
                }
            });
            let name = entry.file_name();
            let name: PyObjectRef = if as_bytes {
                vm.ctx.new_bytes(name.as_bytes().to_vec()).into()
            } else {
                vm.ctx.new_str(name.to_string_lossy().into_owned()).into()
            };
            let tuple: PyObjectRef = vm.new_tuple((name, kind, entry.ino().to_pyobject(vm))).into();
            items.push(tuple);
        }
        let list: PyObjectRef = vm.ctx.new_list(items).into();
        list.get_iter(vm).map(Into::into)
    }

    /// `time.mktime(t)`: seconds since the epoch for local time `t`, a tuple or list of 8
    /// (MicroPython's form) or 9 (CPython's, `struct_time` included) ints, as an int (the
    /// ninth, if there, is the daylight-saving flag; an 8-tuple lets the C library decide).
    #[pyfunction]
    fn mktime(args: FuncArgs, vm: &VirtualMachine) -> PyResult<i64> {
        use rustpython_vm::builtins::{PyList, PyTuple};
        crate::pinmods::mp_arity(&args, 1, 1, 0, vm)?;
        let t = &args.args[0];
        let items: Vec<PyObjectRef> = if let Some(tuple) = t.downcast_ref::<PyTuple>() {
            // A struct_time keeps fields beyond its length (tm_zone, tm_gmtoff) in its tuple.
            let len = if t.class().is(vm.ctx.types.tuple_type) { tuple.len() } else { t.length(vm)? };
            tuple.as_slice()[..len.min(tuple.len())].to_vec()
        } else if let Some(l) = t.downcast_ref::<PyList>() {
            l.borrow_vec().to_vec()
        } else {
            return Err(vm.new_type_error(format!("object '{}' isn't a tuple or list", t.class().name())));
        };
        if items.len() != 8 && items.len() != 9 {
            return Err(vm.new_type_error("mktime needs a tuple of length 8 or 9"));
        }
        let mut v = [0i64; 9];
        v[8] = -1;
        for (slot, item) in v.iter_mut().zip(&items) {
            *slot = crate::pinmods::mp_int(item, vm)?;
        }
        let field = |x: i64| x.clamp(i32::MIN as i64, i32::MAX as i64) as libc::c_int;
        // SAFETY: a zeroed tm is valid; mktime reads and normalises it.
        let secs = unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            tm.tm_year = field(v[0] - 1900);
            tm.tm_mon = field(v[1] - 1);
            tm.tm_mday = field(v[2]);
            tm.tm_hour = field(v[3]);
            tm.tm_min = field(v[4]);
            tm.tm_sec = field(v[5]);
            tm.tm_isdst = field(v[8]);
            libc::mktime(&mut tm)
        };
        if secs == -1 {
            return Err(vm.new_overflow_error("invalid mktime usage"));
        }
        Ok(secs)
    }

    /// Prints `exc` with its traceback to `file` (default `sys.stdout`), in MicroPython's format.
    #[pyfunction]
    fn print_exception(exc: PyBaseExceptionRef, file: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
        let file = match file {
            OptionalArg::Present(f) => f,
            OptionalArg::Missing => vm.sys_module.get_attr("stdout", vm)?,
        };
        crate::traceback::write_to(vm, &file, &crate::traceback::format_exception(vm, &exc))
    }
}

