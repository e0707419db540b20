//! The Python face of the pin model: `machine.Pin` (also `pyb.Pin`), `pyb.LED` and
//! `pyb.Switch`, and the pins as a wake-up source of the loop ([`PinSource`]), which queues
//! the interrupt handlers that edges fire to run between task steps.
//!
//! These classes only translate arguments and errors; the model itself is
//! [`microloop_core::pins::Pins`], held by the pin source among the scheduler's sources.
//! Constants follow the Raspberry Pi Pico port (`IN`=0, `OUT`=1, `OPEN_DRAIN`=2, `PULL_UP`=1,
//! `PULL_DOWN`=2, `IRQ_FALLING`=4, `IRQ_RISING`=8) and error messages MicroPython's.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;

use microloop_core::pins::{Edges, Line, Mode, PinError, PinId, Pins, Pull, Trace};
use microloop_core::{Interest, Readiness};
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyInt, PyStr, PyType, PyTypeRef},
    class::PyClassImpl,
    function::FuncArgs,
    pyclass,
    types::{Callable, Constructor, Representable},
};

use crate::asyncio::core::{Scheduler, sched};
use crate::asyncio::sources::{Callback, Registry, Source, SourceId, Stage};

/// `IRQ_FALLING`, as on the Pico.
const IRQ_FALLING: i64 = 4;
/// `IRQ_RISING`, as on the Pico.
const IRQ_RISING: i64 = 8;

/// An interrupt handler as the script registered it.
struct Handler {
    func: PyObjectRef,
    /// The pin for `Pin.irq`, nothing for `Switch.callback`.
    args: Vec<PyObjectRef>,
    hard: bool,
    /// The irq object whose `flags()` tells the handler which edge fired.
    irq: Option<PyRef<PyPinIrq>>,
}

/// The pin bank and what Python attached to it.
struct PinGlue {
    /// The model.
    pins: Pins,
    handlers: HashMap<Line, Handler>,
    /// `LED.intensity` of the LEDs that have been given one.
    intensity: HashMap<Line, i64>,
}

impl PinGlue {
    /// The handlers of the interrupts fired since the last call, ready to queue.
    fn queue_irqs(&mut self) -> Vec<Callback> {
        let mut out = Vec::new();
        for irq in self.pins.take_irqs() {
            let Some(h) = self.handlers.get(&irq.line) else { continue };
            if let Some(obj) = &h.irq {
                obj.flags.set(edges_to_trigger(irq.edge));
            }
            let on_error = h.hard.then_some((irq_handler_failed as fn(&Scheduler, usize, &VirtualMachine), irq.line));
            out.push(Callback { func: h.func.clone(), args: h.args.clone(), on_error });
        }
        out
    }
}

/// The pins as a wake-up source: edges and stimulus changes that fall due fire interrupts,
/// whose handlers it queues with the scheduled callbacks.
///
/// It is armed while something may be due: edges to read, interrupts to queue, a change the
/// backend has scheduled. What is due moves only when the bank is used, so the source is armed
/// by its descriptor, by each change the script makes ([`PinSource::glue_mut`]) and by a
/// deadline the loop sleeps until, and disarms itself once nothing is due: a script that does
/// not use its pins costs the loop nothing.
pub(crate) struct PinSource {
    id: SourceId,
    glue: RefCell<PinGlue>,
    /// Set when the backend's descriptor turned readable: edges wait to be read.
    ready: Cell<bool>,
}

impl PinSource {
    /// Adds the pins to the scheduler being installed, with the backend's descriptor if it has
    /// one.
    pub(crate) fn register(registry: &mut Registry, pins: Pins) -> std::io::Result<()> {
        let fd = pins.event_fd();
        let glue = PinGlue { pins, handlers: HashMap::new(), intensity: HashMap::new() };
        let id = registry.add(Stage::Interrupts, |id| PinSource { id, glue: RefCell::new(glue), ready: Cell::new(false) });
        registry.arm(id);
        if let Some(fd) = fd {
            registry.register(id, fd, Interest::Read)?;
        }
        Ok(())
    }

    fn of(sched: &Scheduler) -> &PinSource {
        sched.source::<PinSource>().expect("every scheduler has a pin source")
    }

    /// The bank, for a change the script makes: the source is armed, so that the next pass
    /// looks for the interrupts and changes the call may have caused.
    fn glue_mut(&self, sched: &Scheduler) -> RefMut<'_, PinGlue> {
        sched.arm(self.id);
        self.glue.borrow_mut()
    }

    /// Whether edges may wait to be read, interrupts to be queued, or a change to fall due.
    fn pending(&self) -> bool {
        let glue = self.glue.borrow();
        self.ready.get() || glue.pins.has_irqs() || glue.pins.next_change_us().is_some()
    }

    /// Takes in the pin changes that are due (stimulus, hardware edges, the script's own
    /// writes) and queues the interrupt handlers they fire.
    fn pump(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        let mut glue = self.glue.borrow_mut();
        let due = self.ready.replace(false) || glue.pins.next_change_us().is_some_and(|t| t <= sched.now_us());
        if due {
            glue.pins.poll().map_err(|e| pin_error(e, vm))?;
        }
        if glue.pins.has_irqs() {
            let fired = glue.queue_irqs();
            drop(glue);
            sched.callbacks.extend(sched, fired);
        }
        Ok(())
    }
}

impl Source for PinSource {
    fn wait_io_event(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        if self.pending() {
            self.pump(sched, vm)
        } else {
            sched.disarm(self.id);
            Ok(())
        }
    }

    fn ready(&self, sched: &Scheduler, _ev: &Readiness) {
        self.ready.set(true);
        sched.arm(self.id);
    }

    fn can_wake(&self) -> bool {
        self.glue.borrow().pins.may_interrupt()
    }

    fn next_deadline(&self) -> Option<u64> {
        self.glue.borrow().pins.next_change_us()
    }

    fn idle(&self) {
        self.glue.borrow_mut().pins.idle();
    }
}

/// A hard interrupt's handler raised: its interrupt is disabled, with MicroPython's message
/// (the exception is printed after it).
fn irq_handler_failed(sched: &Scheduler, line: Line, vm: &VirtualMachine) {
    let mut glue = PinSource::of(sched).glue_mut(sched);
    if let Some(irq) = glue.handlers.remove(&line).and_then(|h| h.irq) {
        irq.trigger.set(0);
    }
    drop(glue.pins.set_irq(line, Edges::NONE));
    drop(glue);
    crate::traceback::write_stderr(vm, "Uncaught exception in IRQ callback handler\n");
}

/// Runs `f` on the loop's pin bank and what Python attached to it.
fn with_glue<R>(f: impl FnOnce(&mut PinGlue) -> R) -> R {
    let s = sched();
    let mut glue = PinSource::of(&s).glue_mut(&s);
    f(&mut glue)
}

/// Ends the pin recording at the present time and returns it.
pub(crate) fn finish_trace() -> Trace {
    with_glue(|glue| {
        glue.pins.finish();
        glue.pins.trace().clone()
    })
}

/// The Python exception for a pin error: ValueError for a line that does not exist, with
/// MicroPython's words; OSError for a hardware failure.
fn pin_error(e: PinError, vm: &VirtualMachine) -> PyBaseExceptionRef {
    match e {
        PinError::NoSuchPin(PinId::Num(_)) => vm.new_value_error("invalid pin"),
        PinError::NoSuchPin(PinId::Name(name)) => vm.new_value_error(format!("unknown named pin \"{name}\"")),
        PinError::NoSuchPin(id) => vm.new_value_error(format!("{id} doesn't exist")),
        PinError::Io(msg) => vm.new_os_error(msg),
    }
}

/// Runs `f` on the loop's pin bank, turning its error into a Python exception.
fn with_pins<R>(vm: &VirtualMachine, f: impl FnOnce(&mut Pins) -> Result<R, PinError>) -> PyResult<R> {
    with_glue(|glue| f(&mut glue.pins)).map_err(|e| pin_error(e, vm))
}

/// MicroPython's integer conversion: ints (and bools) only, with its message otherwise.
fn mp_int(obj: &PyObjectRef, vm: &VirtualMachine) -> PyResult<i64> {
    match obj.downcast_ref::<PyInt>() {
        Some(i) => i.try_to_primitive::<i64>(vm),
        None => Err(vm.new_type_error(format!("can't convert {} to int", obj.class().name()))),
    }
}

/// Binds arguments as MicroPython's argument parser does: `pos` may come by position or by
/// keyword, `kw_only` by keyword only; extra ones get MicroPython's errors.
fn bind(args: FuncArgs, pos: &[&str], kw_only: &[&str], vm: &VirtualMachine) -> PyResult<Vec<Option<PyObjectRef>>> {
    if args.args.len() > pos.len() {
        return Err(vm.new_type_error("extra positional arguments given"));
    }
    let mut out: Vec<Option<PyObjectRef>> = vec![None; pos.len() + kw_only.len()];
    for (slot, value) in out.iter_mut().zip(args.args) {
        *slot = Some(value);
    }
    for (name, value) in args.kwargs {
        let index = pos.iter().chain(kw_only).position(|n| Ok(*n) == name.as_str());
        match index {
            Some(i) if out[i].is_none() => out[i] = Some(value),
            Some(_) => return Err(vm.new_type_error(format!("argument '{name}' given twice"))),
            None => return Err(vm.new_type_error("extra keyword arguments given")),
        }
    }
    Ok(out)
}

/// The one optional argument of a getter-setter such as `mode([m])`.
fn optional_arg(args: FuncArgs, name: &str, vm: &VirtualMachine) -> PyResult<Option<PyObjectRef>> {
    Ok(bind(args, &[name], &[], vm)?.pop().flatten())
}

/// `mode=`: -1 or None leaves it; otherwise IN, OUT or OPEN_DRAIN.
fn parse_mode(obj: Option<PyObjectRef>, vm: &VirtualMachine) -> PyResult<Option<Mode>> {
    let Some(obj) = obj.filter(|o| !vm.is_none(o)) else { return Ok(None) };
    match mp_int(&obj, vm)? {
        -1 => Ok(None),
        0 => Ok(Some(Mode::In)),
        1 => Ok(Some(Mode::Out)),
        2 => Ok(Some(Mode::OpenDrain)),
        m => Err(vm.new_value_error(format!("invalid pin mode: {m}"))),
    }
}

/// `pull=`: -1 leaves it; None or 0 means no pull; otherwise PULL_UP or PULL_DOWN.
fn parse_pull(obj: Option<PyObjectRef>, vm: &VirtualMachine) -> PyResult<Option<Pull>> {
    let Some(obj) = obj else { return Ok(None) };
    if vm.is_none(&obj) {
        return Ok(Some(Pull::None));
    }
    match mp_int(&obj, vm)? {
        -1 => Ok(None),
        0 => Ok(Some(Pull::None)),
        1 => Ok(Some(Pull::Up)),
        2 => Ok(Some(Pull::Down)),
        p => Err(vm.new_value_error(format!("invalid pin pull: {p}"))),
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::In => "IN",
        Mode::Out => "OUT",
        Mode::OpenDrain => "OPEN_DRAIN",
    }
}

fn edges_to_trigger(edges: Edges) -> i64 {
    (if edges.rising { IRQ_RISING } else { 0 }) | (if edges.falling { IRQ_FALLING } else { 0 })
}

fn trigger_to_edges(trigger: i64) -> Edges {
    Edges { rising: trigger & IRQ_RISING != 0, falling: trigger & IRQ_FALLING != 0 }
}

/// `machine.Pin` (also `pyb.Pin`): one GPIO line.
#[pyclass(module = "machine", name = "Pin")]
#[derive(Debug, PyPayload)]
pub struct PyPin {
    line: Line,
}

impl PyPin {
    /// `init`'s arguments: mode, pull, value (drive and alt are accepted and have no effect).
    fn init_args(&self, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let a = bind(args, &["mode", "pull"], &["value", "drive", "alt"], vm)?;
        let mut a = a.into_iter();
        let mode = parse_mode(a.next().flatten(), vm)?;
        let pull = parse_pull(a.next().flatten(), vm)?;
        let value = match a.next().flatten() {
            Some(v) if !vm.is_none(&v) => Some(v.try_to_bool(vm)?),
            _ => None,
        };
        with_pins(vm, |p| p.configure(self.line, mode, pull, value))
    }

    /// `value()` and `pin()`: no argument reads, one writes.
    fn value_args(&self, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if !args.kwargs.is_empty() {
            return Err(vm.new_type_error("function doesn't take keyword arguments"));
        }
        match args.args.as_slice() {
            [] => Ok(vm.ctx.new_int(with_pins(vm, |p| p.read(self.line))? as i64).into()),
            [v] => {
                let level = v.clone().try_to_bool(vm)?;
                with_pins(vm, |p| p.write(self.line, level))?;
                Ok(vm.ctx.none())
            }
            more => Err(vm.new_type_error(format!("function expected at most 2 arguments, got {}", more.len() + 1))),
        }
    }

    fn set(&self, level: bool, vm: &VirtualMachine) -> PyResult<()> {
        with_pins(vm, |p| p.write(self.line, level))
    }
}

impl Constructor for PyPin {
    type Args = FuncArgs;
    fn py_new(_cls: &Py<PyType>, mut args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        if args.args.is_empty() {
            return Err(vm.new_type_error("function missing 1 required positional arguments"));
        }
        let id_obj = args.args.remove(0);
        let line = if let Some(pin) = id_obj.downcast_ref::<PyPin>() {
            pin.line
        } else {
            let id = if let Some(s) = id_obj.downcast_ref::<PyStr>() {
                PinId::Name(s.to_string_lossy().into_owned())
            } else if let Some(i) = id_obj.downcast_ref::<PyInt>() {
                PinId::Num(i.try_to_primitive::<i64>(vm).map_err(|_| vm.new_value_error("invalid pin"))?)
            } else {
                return Err(vm.new_value_error("invalid pin"));
            };
            with_pins(vm, |p| p.open(&id))?
        };
        let pin = PyPin { line };
        if !args.args.is_empty() || !args.kwargs.is_empty() {
            pin.init_args(args, vm)?;
        }
        Ok(pin)
    }
}

impl Callable for PyPin {
    type Args = FuncArgs;
    fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        zelf.value_args(args, vm)
    }
}

impl Representable for PyPin {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        let s = sched();
        let glue = PinSource::of(&s).glue.borrow();
        let p = &glue.pins;
        let id = match p.id(zelf.line) {
            PinId::Num(n) => n.to_string(),
            PinId::Name(s) => format!("'{s}'"),
            other => other.to_string(),
        };
        let mut text = format!("Pin({id}");
        if let Some(mode) = p.mode(zelf.line) {
            text.push_str(", mode=");
            text.push_str(mode_name(mode));
        }
        match p.pull(zelf.line) {
            Pull::None => {}
            Pull::Up => text.push_str(", pull=PULL_UP"),
            Pull::Down => text.push_str(", pull=PULL_DOWN"),
        }
        text.push(')');
        Ok(text)
    }
}

#[pyclass(with(Constructor, Callable, Representable))]
impl PyPin {
    /// Re-initialises the pin: `init(mode=-1, pull=-1, *, value=None)`.
    #[pymethod]
    fn init(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        zelf.init_args(args, vm)
    }

    /// `value()` reads the level (0 or 1); `value(x)` sets the output to `bool(x)`.
    #[pymethod]
    fn value(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        zelf.value_args(args, vm)
    }

    /// Sets the output to 1.
    #[pymethod]
    fn on(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(true, vm)
    }

    /// Sets the output to 0.
    #[pymethod]
    fn off(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(false, vm)
    }

    /// Sets the output to 1.
    #[pymethod]
    fn high(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(true, vm)
    }

    /// Sets the output to 0.
    #[pymethod]
    fn low(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(false, vm)
    }

    /// Inverts the output.
    #[pymethod]
    fn toggle(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        let latch = with_pins(vm, |p| Ok(p.latch(zelf.line)))?;
        zelf.set(!latch, vm)
    }

    /// `mode()` gives the mode (None if never set); `mode(m)` sets it.
    #[pymethod]
    fn mode(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let mode = optional_arg(args, "mode", vm)?;
        if mode.is_some() {
            let mode = parse_mode(mode, vm)?;
            with_pins(vm, |p| p.configure(zelf.line, mode, None, None))?;
            return Ok(vm.ctx.none());
        }
        let mode = with_pins(vm, |p| Ok(p.mode(zelf.line)))?;
        Ok(match mode {
            None => vm.ctx.none(),
            Some(Mode::In) => vm.ctx.new_int(0).into(),
            Some(Mode::Out) => vm.ctx.new_int(1).into(),
            Some(Mode::OpenDrain) => vm.ctx.new_int(2).into(),
        })
    }

    /// `pull()` gives PULL_UP, PULL_DOWN or None; `pull(p)` sets it.
    #[pymethod]
    fn pull(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let pull = optional_arg(args, "pull", vm)?;
        if pull.is_some() {
            let pull = parse_pull(pull, vm)?;
            with_pins(vm, |p| p.configure(zelf.line, None, pull, None))?;
            return Ok(vm.ctx.none());
        }
        Ok(match with_pins(vm, |p| Ok(p.pull(zelf.line)))? {
            Pull::None => vm.ctx.none(),
            Pull::Up => vm.ctx.new_int(1).into(),
            Pull::Down => vm.ctx.new_int(2).into(),
        })
    }

    /// `irq(handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False)`: calls
    /// `handler(pin)` between task steps after each selected edge. No arguments: gives the irq
    /// object unchanged. A None handler disables the interrupt.
    #[pymethod]
    fn irq(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyPinIrq>> {
        let unchanged = args.args.is_empty() && args.kwargs.is_empty();
        let a = bind(args, &["handler", "trigger", "hard"], &["priority", "wake"], vm)?;
        let mut a = a.into_iter();
        let handler = a.next().flatten().filter(|h| !vm.is_none(h));
        let trigger = match a.next().flatten() {
            Some(t) => mp_int(&t, vm)?,
            None => IRQ_FALLING | IRQ_RISING,
        };
        let hard = match a.next().flatten() {
            Some(h) => h.try_to_bool(vm)?,
            None => false,
        };
        let s = sched();
        let mut glue = PinSource::of(&s).glue_mut(&s);
        let existing = glue.handlers.get(&zelf.line).and_then(|h| h.irq.clone());
        let irq = existing.unwrap_or_else(|| {
            PyPinIrq { line: zelf.line, flags: Default::default(), trigger: Default::default() }.into_ref(&vm.ctx)
        });
        if unchanged {
            return Ok(irq);
        }
        let edges = if handler.is_some() { trigger_to_edges(trigger) } else { Edges::NONE };
        irq.trigger.set(edges_to_trigger(edges));
        match handler {
            Some(func) => {
                let args = vec![zelf.clone().into()];
                glue.handlers.insert(zelf.line, Handler { func, args, hard, irq: Some(irq.clone()) });
            }
            None => {
                glue.handlers.remove(&zelf.line);
            }
        }
        glue.pins.set_irq(zelf.line, edges).map_err(|e| pin_error(e, vm))?;
        Ok(irq)
    }
}

/// The object `Pin.irq()` returns.
#[pyclass(module = "machine", name = "irq")]
#[derive(Debug, PyPayload)]
pub struct PyPinIrq {
    line: Line,
    /// The edge that fired the last interrupt, as trigger bits.
    flags: std::cell::Cell<i64>,
    /// The edges selected, as trigger bits.
    trigger: std::cell::Cell<i64>,
}

impl Callable for PyPinIrq {
    type Args = FuncArgs;
    /// Runs the handler now, as MicroPython's irq objects do.
    fn call(zelf: &Py<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let handler = {
            let s = sched();
            let glue = PinSource::of(&s).glue.borrow();
            glue.handlers.get(&zelf.line).map(|h| (h.func.clone(), h.args.clone()))
        };
        match handler {
            Some((func, args)) => func.call(args, vm),
            None => Ok(vm.ctx.none()),
        }
    }
}

#[pyclass(with(Callable))]
impl PyPinIrq {
    /// The edges that caused the last interrupt.
    #[pymethod]
    fn flags(zelf: &Py<Self>) -> i64 {
        zelf.flags.get()
    }

    /// Gives the selected edges; with an argument, selects new ones and gives the old.
    #[pymethod]
    fn trigger(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<i64> {
        let old = zelf.trigger.get();
        if let Some(new) = optional_arg(args, "trigger", vm)? {
            let new = mp_int(&new, vm)?;
            zelf.trigger.set(new);
            with_pins(vm, |p| p.set_irq(zelf.line, trigger_to_edges(new)))?;
        }
        Ok(old)
    }
}

/// `pyb.LED(n)`: one of the board's LEDs (1 to 4 on the simulated board).
#[pyclass(module = "pyb", name = "LED")]
#[derive(Debug, PyPayload)]
pub struct PyLed {
    line: Line,
    n: i64,
}

impl Constructor for PyLed {
    type Args = (PyObjectRef,);
    fn py_new(_cls: &Py<PyType>, (n,): (PyObjectRef,), vm: &VirtualMachine) -> PyResult<Self> {
        let n = mp_int(&n, vm)?;
        let line = with_pins(vm, |p| {
            let line = p.open(&PinId::Led(n))?;
            if p.mode(line).is_none() {
                p.configure(line, Some(Mode::Out), None, Some(false))?;
            }
            Ok(line)
        })?;
        Ok(PyLed { line, n })
    }
}

impl Representable for PyLed {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("LED({})", zelf.n))
    }
}

impl PyLed {
    /// LEDs 3 and 4 dim (as the pyboard's do, with PWM); 1 and 2 are on or off.
    fn dims(&self) -> bool {
        matches!(self.n, 3 | 4)
    }

    fn set_intensity(&self, value: i64, vm: &VirtualMachine) -> PyResult<()> {
        let value = if self.dims() && value > 0 && value < 255 { value } else if value > 0 { 255 } else { 0 };
        let s = sched();
        let mut glue = PinSource::of(&s).glue_mut(&s);
        glue.intensity.insert(self.line, value);
        glue.pins.write(self.line, value > 0).map_err(|e| pin_error(e, vm))
    }
}

#[pyclass(with(Constructor, Representable))]
impl PyLed {
    /// Turns the LED on, fully.
    #[pymethod]
    fn on(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set_intensity(255, vm)
    }

    /// Turns the LED off.
    #[pymethod]
    fn off(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set_intensity(0, vm)
    }

    /// Turns the LED off if it is lit at all, else fully on.
    #[pymethod]
    fn toggle(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        let lit = with_pins(vm, |p| Ok(p.latch(zelf.line)))?;
        zelf.set_intensity(if lit { 0 } else { 255 }, vm)
    }

    /// `intensity()` gives the brightness, 0 to 255; `intensity(v)` sets it (LEDs 1 and 2 are
    /// simply on for any v above 0).
    #[pymethod]
    fn intensity(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<Option<i64>> {
        match optional_arg(args, "value", vm)? {
            Some(v) => {
                let v = mp_int(&v, vm)?;
                zelf.set_intensity(v, vm)?;
                Ok(None)
            }
            None => {
                let s = sched();
                let glue = PinSource::of(&s).glue.borrow();
                let lit = glue.pins.latch(zelf.line);
                let stored = glue.intensity.get(&zelf.line).copied();
                Ok(Some(match (lit, stored) {
                    (false, _) => 0,
                    (true, Some(v)) if zelf.dims() => v,
                    (true, _) => 255,
                }))
            }
        }
    }
}

/// `pyb.Switch()`: the board's user button; 1 (True) while pressed.
#[pyclass(module = "pyb", name = "Switch")]
#[derive(Debug, PyPayload)]
pub struct PySwitch {
    line: Line,
}

impl PySwitch {
    fn pressed(&self, vm: &VirtualMachine) -> PyResult<bool> {
        with_pins(vm, |p| p.read(self.line))
    }
}

impl Constructor for PySwitch {
    type Args = ();
    fn py_new(_cls: &Py<PyType>, _args: (), vm: &VirtualMachine) -> PyResult<Self> {
        let line = with_pins(vm, |p| {
            let line = p.open(&PinId::Switch)?;
            if p.mode(line).is_none() {
                p.configure(line, Some(Mode::In), None, None)?;
            }
            Ok(line)
        })?;
        Ok(PySwitch { line })
    }
}

impl Callable for PySwitch {
    type Args = ();
    fn call(zelf: &Py<Self>, _args: (), vm: &VirtualMachine) -> PyResult {
        Ok(vm.ctx.new_bool(zelf.pressed(vm)?).into())
    }
}

impl Representable for PySwitch {
    fn repr_str(_zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok("Switch()".to_owned())
    }
}

#[pyclass(with(Constructor, Callable, Representable))]
impl PySwitch {
    /// True while the switch is pressed.
    #[pymethod]
    fn value(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<bool> {
        zelf.pressed(vm)
    }

    /// Calls `fn()` between task steps each time the switch is pressed; None stops it.
    #[pymethod]
    fn callback(zelf: &Py<Self>, func: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let s = sched();
        let mut glue = PinSource::of(&s).glue_mut(&s);
        let edges = if vm.is_none(&func) {
            glue.handlers.remove(&zelf.line);
            Edges::NONE
        } else {
            glue.handlers.insert(zelf.line, Handler { func, args: Vec::new(), hard: false, irq: None });
            Edges { rising: true, falling: false }
        };
        glue.pins.set_irq(zelf.line, edges).map_err(|e| pin_error(e, vm))
    }
}

/// The Pin class with its constants (`pyb.Pin`'s spellings included).
fn pin_type(vm: &VirtualMachine) -> PyTypeRef {
    let cls = PyPin::make_static_type();
    let none = vm.ctx.none();
    let ints: [(&str, i64); 9] = [
        ("IN", 0),
        ("OUT", 1),
        ("OPEN_DRAIN", 2),
        ("PULL_UP", 1),
        ("PULL_DOWN", 2),
        ("IRQ_FALLING", IRQ_FALLING),
        ("IRQ_RISING", IRQ_RISING),
        ("OUT_PP", 1),
        ("OUT_OD", 2),
    ];
    for (name, value) in ints {
        cls.set_attr(vm.ctx.intern_str(name), vm.ctx.new_int(value).into());
    }
    cls.set_attr(vm.ctx.intern_str("PULL_NONE"), none);
    cls
}

#[rustpython_vm::pymodule(name = "machine")]
pub(crate) mod machine {
    use rustpython_vm::{AsObject, Py, PyResult, VirtualMachine, builtins::PyModule};

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        let _ = super::PyPinIrq::make_static_type();
        module.as_object().set_attr("Pin", super::pin_type(vm), vm)?;
        Ok(())
    }

    use rustpython_vm::class::PyClassImpl;
}

#[rustpython_vm::pymodule(name = "pyb")]
pub(crate) mod pyb {
    use rustpython_vm::{AsObject, Py, PyResult, VirtualMachine, builtins::PyModule, class::PyClassImpl};

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        let m = module.as_object();
        m.set_attr("Pin", super::pin_type(vm), vm)?;
        m.set_attr("LED", super::PyLed::make_static_type(), vm)?;
        m.set_attr("Switch", super::PySwitch::make_static_type(), vm)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trigger_bits_round_trip() {
        use super::*;
        for t in [0, IRQ_FALLING, IRQ_RISING, IRQ_FALLING | IRQ_RISING] {
            assert_eq!(edges_to_trigger(trigger_to_edges(t)), t);
        }
        assert_eq!(trigger_to_edges(0x10), Edges::NONE);
    }
}
