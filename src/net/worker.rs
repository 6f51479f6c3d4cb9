//! The thread a blocking entry point runs an async task on (the publisher's
//! `spawn`, the feed's `spawn`): told to stop through a oneshot, joined when stopped
//! or dropped.

/// A task's thread and the sender that stops it.
#[derive(Debug)]
pub(crate) struct Worker {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    pub(crate) fn new(
        stop: tokio::sync::oneshot::Sender<()>,
        thread: std::thread::JoinHandle<()>,
    ) -> Self {
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Whether the thread is still running (the feed reports it).
    #[cfg(feature = "feed")]
    pub(crate) fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Tells the task to stop and waits for its thread.
    pub(crate) fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
