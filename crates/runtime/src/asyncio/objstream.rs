//! Streams over Python objects: `Stream(obj)` where `obj` has no descriptor but its own
//! `read`/`readinto`/`readline`/`write` methods, such as a driver written in Python (an
//! `io.IOBase` subclass) or a test double.
//!
//! The steps are those of MicroPython's `Stream` over such an object: `write` hands what the
//! caller gave (not a copy) to `obj.write` at once when nothing is queued and queues what the
//! object did not take (`None`: it took nothing); `drain` gives the queue to `obj.write` until
//! it is empty; each read first yields to the loop, as MicroPython's `yield queue_read(s)`
//! does, then calls the object, and a `None` answer (nothing available yet) means another try.
//! Before each call the object's `ioctl(MP_STREAM_POLL, event)` is asked whether it is ready,
//! when it has an `ioctl`; without one the object is simply called (MicroPython would raise
//! AttributeError as soon as it had to wait). The loop cannot sleep on an object the way it
//! sleeps on a descriptor: a task whose object is not ready asks again a millisecond later
//! (MicroPython's poller asks such objects about as often), on the loop's clock, so virtual
//! time moves. `close()` does nothing; awaiting `wait_closed()` calls `obj.close()`.

use std::cell::{Cell, RefCell};

use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::PyStr,
    convert::TryFromBorrowedObject,
    function::ArgBytesLike,
    protocol::PyIterReturn,
};

use super::core::{current_task, sched};
use super::stream::{OpKind, yield_once};

/// The object side of a stream: the object and the bytes `write` queued for it.
#[derive(Debug)]
pub(crate) struct ObjectStream {
    obj: PyObjectRef,
    out_buf: RefCell<Vec<u8>>,
}

/// The state of one awaited operation: whether it has yielded once, and what it gathered.
#[derive(Debug, Default)]
pub(crate) struct ObjectOpState {
    yielded: Cell<bool>,
    got: RefCell<Vec<u8>>,
}

/// `ioctl` request asking a stream which of the events in `arg` it is ready for (MicroPython's
/// `MP_STREAM_POLL`), and the two events a stream waits for.
const MP_STREAM_POLL: i32 = 3;
const POLLIN: i32 = 0x001;
const POLLOUT: i32 = 0x004;

/// How long a task waits before asking an object that was not ready again.
const OBJECT_POLL_US: u64 = 1_000;

fn done(value: PyObjectRef) -> PyResult<PyIterReturn> {
    Ok(PyIterReturn::StopIteration(Some(value)))
}

/// The bytes of an answer (a read's, or what `write` did not take); None for `None` (nothing
/// available yet). A text stream answers str: its UTF-8 bytes. Anything else must be bytes-like.
fn answer_bytes(value: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Option<Vec<u8>>> {
    if vm.is_none(value) {
        return Ok(None);
    }
    if let Some(s) = value.downcast_ref::<PyStr>() {
        return Ok(Some(s.as_bytes().to_vec()));
    }
    let buf = ArgBytesLike::try_from_borrowed_object(vm, value)?;
    Ok(Some(buf.borrow_buf().to_vec()))
}

impl ObjectStream {
    /// An object stream over `obj` if it has the methods of one (`read`, `readinto` or `write`).
    pub(crate) fn new(obj: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Option<Self>> {
        for name in ["read", "readinto", "write"] {
            if vm.get_attribute_opt(obj, name)?.is_some() {
                return Ok(Some(ObjectStream { obj: obj.clone(), out_buf: RefCell::new(Vec::new()) }));
            }
        }
        Ok(None)
    }

    /// `Stream.write(buf)`: the caller's object (bytes-like, or str for a text device) to the
    /// object at once when nothing is queued; what it did not take is queued.
    pub(crate) fn write(&self, buf: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let mut rest = buf;
        if self.out_buf.borrow().is_empty() {
            let len = rest.length(vm)?;
            let ret = vm.call_method(&self.obj, "write", (rest.clone(),))?;
            if !vm.is_none(&ret) {
                let n: usize = ret.try_to_value(vm)?;
                if n >= len {
                    return Ok(());
                }
                let slice = vm.ctx.types.slice_type.as_object().call((n, vm.ctx.none()), vm)?;
                rest = rest.get_item(&*slice, vm)?;
            }
        }
        let bytes = answer_bytes(&rest, vm)?.unwrap_or_default();
        self.out_buf.borrow_mut().extend_from_slice(&bytes);
        Ok(())
    }

    /// Whether the object is ready for `event`: its `ioctl(MP_STREAM_POLL, event)` answer, as
    /// MicroPython's poller asks it (a reader wakes on any flag but POLLOUT, a writer on any
    /// but POLLIN; a negative answer is an OSError). None: the object has no `ioctl`.
    fn ready(&self, event: i32, vm: &VirtualMachine) -> PyResult<Option<bool>> {
        if vm.get_attribute_opt(&self.obj, "ioctl")?.is_none() {
            return Ok(None);
        }
        let flags: i32 = vm.call_method(&self.obj, "ioctl", (MP_STREAM_POLL, event))?.try_to_value(vm)?;
        if flags < 0 {
            let errno = vm.ctx.new_int(-flags).into();
            return Err(vm.new_exception(vm.ctx.exceptions.os_error.to_owned(), vec![errno]));
        }
        let other = if event == POLLOUT { POLLIN } else { POLLOUT };
        Ok(Some(flags & !other != 0))
    }

    /// Waits for the object: the next pass when its `ioctl` said it was ready (its answer was
    /// only "not yet"), else a millisecond, so that a task waiting on an idle object neither
    /// keeps a core busy nor holds virtual time still (MicroPython's poller also asks such
    /// objects about once a millisecond).
    fn wait(&self, has_ioctl_ready: bool, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        if has_ioctl_ready {
            return yield_once(vm);
        }
        let task = current_task(vm)?;
        sched().park_for(task, OBJECT_POLL_US);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }

    /// One step of `op`.
    pub(super) fn step(&self, op: &OpKind, state: &ObjectOpState, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        match op {
            // `wait_closed()`, awaited: MicroPython's coroutine calls `close()` without yielding.
            OpKind::Close => {
                vm.call_method(&self.obj, "close", ())?;
                return done(vm.ctx.none());
            }
            OpKind::ReadExactly(0) => return done(vm.ctx.new_bytes(Vec::new()).into()),
            _ => {}
        }
        // Every operation first gives the loop a turn, as MicroPython's do.
        if !state.yielded.replace(true) {
            return yield_once(vm);
        }
        let event = if matches!(op, OpKind::Drain) { POLLOUT } else { POLLIN };
        let mut ioctl_ready = false;
        if !matches!(op, OpKind::Drain) || !self.out_buf.borrow().is_empty() {
            match self.ready(event, vm)? {
                // Not ready yet: wait, as a task parked on the poller does.
                Some(false) => return self.wait(false, vm),
                Some(true) => ioctl_ready = true,
                None => {}
            }
        }
        match op {
            OpKind::Drain | OpKind::Close => {
                let pending = self.out_buf.borrow().clone();
                if pending.is_empty() {
                    return done(vm.ctx.none());
                }
                let len = pending.len();
                // A memoryview of what is queued, as MicroPython's drain passes it.
                let view = vm.ctx.types.memoryview_type.as_object().call((vm.ctx.new_bytes(pending),), vm)?;
                let ret = vm.call_method(&self.obj, "write", (view,))?;
                if !vm.is_none(&ret) {
                    let n: usize = ret.try_to_value(vm)?;
                    self.out_buf.borrow_mut().drain(..n.min(len));
                }
                if self.out_buf.borrow().is_empty() { done(vm.ctx.none()) } else { self.wait(ioctl_ready, vm) }
            }
            OpKind::Read(_) | OpKind::ReadAll => {
                let n = match op {
                    OpKind::Read(n) => *n as isize,
                    _ => -1,
                };
                let ret = vm.call_method(&self.obj, "read", (n,))?;
                match answer_bytes(&ret, vm)? {
                    None => self.wait(ioctl_ready, vm),
                    // read(-1) gathers until the object reports its end (empty).
                    Some(chunk) if n < 0 && !chunk.is_empty() => {
                        state.got.borrow_mut().extend_from_slice(&chunk);
                        yield_once(vm)
                    }
                    Some(_) if n < 0 => done(vm.ctx.new_bytes(state.got.take()).into()),
                    Some(_) => done(ret),
                }
            }
            OpKind::ReadInto(buf) => {
                // The object's answer as it is, None included (MicroPython does not retry).
                done(vm.call_method(&self.obj, "readinto", (buf.clone(),))?)
            }
            OpKind::ReadExactly(n) => {
                let want = n - state.got.borrow().len();
                if want == 0 {
                    return done(vm.ctx.new_bytes(state.got.take()).into());
                }
                let ret = vm.call_method(&self.obj, "read", (want,))?;
                match answer_bytes(&ret, vm)? {
                    None => self.wait(ioctl_ready, vm),
                    Some(chunk) if chunk.is_empty() => Err(vm.new_exception_empty(vm.ctx.exceptions.eof_error.to_owned())),
                    Some(chunk) => {
                        state.got.borrow_mut().extend_from_slice(&chunk);
                        if state.got.borrow().len() >= *n {
                            done(vm.ctx.new_bytes(state.got.take()).into())
                        } else {
                            yield_once(vm)
                        }
                    }
                }
            }
            OpKind::ReadLine => {
                let ret = vm.call_method(&self.obj, "readline", ())?;
                match answer_bytes(&ret, vm)? {
                    None => self.wait(ioctl_ready, vm),
                    Some(chunk) => {
                        let ended = chunk.is_empty() || chunk.last() == Some(&b'\n');
                        state.got.borrow_mut().extend_from_slice(&chunk);
                        if ended { done(vm.ctx.new_bytes(state.got.take()).into()) } else { yield_once(vm) }
                    }
                }
            }
        }
    }
}
