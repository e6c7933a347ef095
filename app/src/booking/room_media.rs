//! Video in the portal call room: camera, microphone and screen, peer to peer.
//!
//! Each pair of participants has one `RTCPeerConnection` with three transceivers fixed from the start (audio,
//! camera, screen) and a negotiated data channel for small state messages (muted, camera off, sharing). Sharing
//! a screen puts a track on the third sender with `replaceTrack`, so it needs no renegotiation and the other
//! side knows that tile is the screen.
//!
//! Signalling goes through `POST /api/v1/bookings/{id}/signal` and arrives on the event stream as
//! `call.signal`. Every signal carries the sender's page `instance` (new at each Join) and the connection's
//! `session` (new for each connection). The protocol:
//! - whoever joins offers to everyone present; a page that has not joined ignores offers;
//! - when both sides offer at once, the lower user id keeps its offer (and sends it again, addressed to the
//!   other's instance, in case the first was missed) and the higher id drops its own and answers;
//! - an offer for another session replaces the connection (the other side reloaded or reconnected);
//! - a connection that fails is offered again after a pause (the lower id first), up to [`MAX_RESTARTS`];
//! - hanging up says `bye` to everyone; the last one left ends the call on their side too.
//!
//! `?relay=1` in the room's address forces `iceTransportPolicy: "relay"` (only TURN relays; this hides the
//! addresses of both sides from each other, and proves the TURN path in tests).

use crate::presence::Presence;
use leptos::prelude::*;

/// Where the call is, as the page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not joined; the camera is off.
    Idle,
    /// The camera and microphone are on for a look before joining.
    Preview,
    /// Joined.
    InCall,
    /// Hung up (by us, or the others left).
    Ended,
}

/// What the page shows of one other participant. Each part is a signal of its own, so the stats poll
/// updates a label without re-creating the tile (and its video element).
#[derive(Clone, Copy, Debug)]
pub struct RemoteView {
    pub user_id: i64,
    pub name: RwSignal<String>,
    pub state: RwSignal<String>,
    pub muted: RwSignal<bool>,
    pub camera_off: RwSignal<bool>,
    pub sharing: RwSignal<bool>,
    pub speaking: RwSignal<bool>,
    pub quality: RwSignal<String>,
    /// The local candidate type of the pair in use: `host`, `srflx` or `relay`.
    pub route: RwSignal<String>,
    /// Bumped when a track arrives, so the tile's video elements pick it up.
    pub tracks: RwSignal<u32>,
}

#[cfg(feature = "hydrate")]
impl RemoteView {
    fn new(user_id: i64, name: &str) -> RemoteView {
        RemoteView {
            user_id,
            name: RwSignal::new(name.to_string()),
            state: RwSignal::new("Connecting…".to_string()),
            muted: RwSignal::new(false),
            camera_off: RwSignal::new(false),
            sharing: RwSignal::new(false),
            speaking: RwSignal::new(false),
            quality: RwSignal::new(String::new()),
            route: RwSignal::new(String::new()),
            tracks: RwSignal::new(0),
        }
    }
}

/// The call's state for the page.
#[derive(Clone, Copy, Debug)]
pub struct CallUi {
    pub phase: RwSignal<Phase>,
    pub status: RwSignal<String>,
    pub error: RwSignal<Option<String>>,
    pub peers: RwSignal<Vec<RemoteView>>,
    pub muted: RwSignal<bool>,
    pub camera_off: RwSignal<bool>,
    pub sharing: RwSignal<bool>,
    pub has_camera: RwSignal<bool>,
    /// (device id, label)
    pub cameras: RwSignal<Vec<(String, String)>>,
    pub microphones: RwSignal<Vec<(String, String)>>,
    pub camera_id: RwSignal<String>,
    pub microphone_id: RwSignal<String>,
    /// Someone offered a call while we had not joined.
    pub waiting: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
}

impl CallUi {
    fn new() -> CallUi {
        CallUi {
            phase: RwSignal::new(Phase::Idle),
            status: RwSignal::new("You have not joined the video yet.".to_string()),
            error: RwSignal::new(None),
            peers: RwSignal::new(Vec::new()),
            muted: RwSignal::new(false),
            camera_off: RwSignal::new(false),
            sharing: RwSignal::new(false),
            has_camera: RwSignal::new(false),
            cameras: RwSignal::new(Vec::new()),
            microphones: RwSignal::new(Vec::new()),
            camera_id: RwSignal::new(String::new()),
            microphone_id: RwSignal::new(String::new()),
            waiting: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }
}

/// A connection that keeps failing is given up after this many new offers.
pub const MAX_RESTARTS: u32 = 5;

/// The video part of the call room. `others` are the people the room's poll sees (who to offer to).
#[component]
pub fn VideoCall(booking_id: i64, me: i64, others: RwSignal<Vec<Presence>>) -> impl IntoView {
    let ui = CallUi::new();
    let local_video = NodeRef::<leptos::html::Video>::new();
    #[cfg(feature = "hydrate")]
    let engine = engine::Handle::new(booking_id, me, ui, local_video, others);
    #[cfg(not(feature = "hydrate"))]
    let _ = (booking_id, me, others);
    let act = move |what: Action| {
        #[cfg(feature = "hydrate")]
        engine.act(what);
        #[cfg(not(feature = "hydrate"))]
        let _ = what;
    };
    let joined = move || ui.phase.get() == Phase::InCall;
    let camera_on = move || matches!(ui.phase.get(), Phase::Preview | Phase::InCall);
    view! {
        <section class="video-call" aria-labelledby="video-heading" data-testid="video-call"
            class:in-call=joined>
            <h2 id="video-heading">"Video"</h2>
            <p class="call-state" role="status" aria-live="polite" data-testid="call-state">{move || ui.status.get()}</p>
            {move || ui.error.get().map(|e| view! { <p class="error" role="alert" data-testid="call-error">{e}</p> })}
            {move || ui.waiting.get().filter(|_| !joined()).map(|name| view! {
                <p class="callout info" data-testid="call-waiting">{format!("{name} is waiting for you in the video call.")}</p>
            })}
            <div class="call-stage" data-testid="call-stage">
                <For each=move || ui.peers.get() key=|p| p.user_id let:peer>
                    <RemoteTile peer=peer/>
                </For>
                <figure class="tile local" hidden=move || !camera_on()>
                    <video node_ref=local_video data-testid="local-video" autoplay=true playsinline=true
                        muted=true aria-label="Your camera"></video>
                    <figcaption>{move || if ui.camera_off.get() { "You (camera off)" } else { "You" }}
                        {move || ui.muted.get().then_some(" · muted")}</figcaption>
                </figure>
            </div>
            <div class="call-devices" hidden=move || !camera_on() || ui.cameras.get().is_empty() && ui.microphones.get().is_empty()>
                <div class="field">
                    <label for="call-camera">"Camera"</label>
                    <select id="call-camera" data-testid="camera-select"
                        on:change=move |ev| act(Action::Camera(event_target_value(&ev)))
                        prop:value=move || ui.camera_id.get()>
                        {move || ui.cameras.get().into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="call-microphone">"Microphone"</label>
                    <select id="call-microphone" data-testid="microphone-select"
                        on:change=move |ev| act(Action::Microphone(event_target_value(&ev)))
                        prop:value=move || ui.microphone_id.get()>
                        {move || ui.microphones.get().into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <div class="call-controls actions">
                {move || match ui.phase.get() {
                    Phase::Idle | Phase::Ended => view! {
                        <button type="button" class="button subtle" data-testid="preview-call" disabled=move || ui.busy.get()
                            on:click=move |_| act(Action::Preview)>"Check camera and microphone"</button>
                        <button type="button" class="button" data-testid="join-video" disabled=move || ui.busy.get()
                            on:click=move |_| act(Action::Join)>
                            {if ui.phase.get_untracked() == Phase::Ended { "Join again" } else { "Join the video call" }}
                        </button>
                    }.into_any(),
                    Phase::Preview => view! {
                        <button type="button" class="button" data-testid="join-video" disabled=move || ui.busy.get()
                            on:click=move |_| act(Action::Join)>"Join the video call"</button>
                        <button type="button" class="button subtle" on:click=move |_| act(Action::StopPreview)>"Turn the camera off"</button>
                    }.into_any(),
                    Phase::InCall => view! {
                        <button type="button" class="button subtle" data-testid="mute" aria-pressed=move || ui.muted.get().to_string()
                            on:click=move |_| act(Action::Mute)>{move || if ui.muted.get() { "Unmute" } else { "Mute" }}</button>
                        <button type="button" class="button subtle" data-testid="camera-toggle" aria-pressed=move || ui.camera_off.get().to_string()
                            disabled=move || !ui.has_camera.get()
                            on:click=move |_| act(Action::CameraToggle)>{move || if ui.camera_off.get() { "Turn camera on" } else { "Turn camera off" }}</button>
                        {move || (ui.cameras.get().len() > 1).then(|| view! {
                            <button type="button" class="button subtle" data-testid="switch-camera" on:click=move |_| act(Action::SwitchCamera)>"Switch camera"</button>
                        })}
                        <button type="button" class="button subtle" data-testid="share-screen" aria-pressed=move || ui.sharing.get().to_string()
                            on:click=move |_| act(Action::Share)>{move || if ui.sharing.get() { "Stop sharing" } else { "Share your screen" }}</button>
                        <button type="button" class="button danger" data-testid="hang-up" on:click=move |_| act(Action::HangUp)>"Hang up"</button>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}

/// What the buttons and pickers ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Preview,
    StopPreview,
    Join,
    Mute,
    CameraToggle,
    SwitchCamera,
    Camera(String),
    Microphone(String),
    Share,
    HangUp,
}

/// One other participant: their camera, and their screen shown large while they share it.
#[component]
fn RemoteTile(peer: RemoteView) -> impl IntoView {
    let camera = NodeRef::<leptos::html::Video>::new();
    let screen = NodeRef::<leptos::html::Video>::new();
    #[cfg(feature = "hydrate")]
    engine::attach(peer, camera, screen);
    let label = move || {
        let mut parts = vec![peer.name.get()];
        if peer.speaking.get() && !peer.muted.get() {
            parts.push("speaking".into());
        }
        if peer.muted.get() {
            parts.push("muted".into());
        }
        if peer.camera_off.get() {
            parts.push("camera off".into());
        }
        parts.join(" · ")
    };
    view! {
        <figure class="tile remote" class:sharing=move || peer.sharing.get() class:speaking=move || peer.speaking.get()
            data-testid="remote-tile" data-user-id=peer.user_id data-route=move || peer.route.get()
            data-muted=move || peer.muted.get().to_string()>
            <video node_ref=screen class="screen" data-testid="remote-screen" autoplay=true playsinline=true muted=true
                hidden=move || !peer.sharing.get() aria-label=move || format!("{}'s screen", peer.name.get())></video>
            <video node_ref=camera class="camera" data-testid="remote-video" autoplay=true playsinline=true
                aria-label=move || format!("{}'s camera", peer.name.get())></video>
            <figcaption>
                <span data-testid="remote-label">{label}</span>
                <span class="muted" data-testid="remote-state">{move || {
                    let quality = peer.quality.get();
                    if quality.is_empty() { format!(" · {}", peer.state.get()) } else { format!(" · {} · {quality}", peer.state.get()) }
                }}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(feature = "hydrate")]
mod engine {
    //! The browser side: media devices, peer connections, signals, stats. Errors from the browser's APIs are
    //! turned into sentences on the page; nothing here panics.

    use super::{Action, CallUi, Phase, RemoteView, MAX_RESTARTS};
    use crate::presence::Presence;
    use leptos::prelude::*;
    use serde_json::{json, Value};
    use std::cell::RefCell;
    use std::collections::{HashMap, VecDeque};
    use std::rc::{Rc, Weak};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        MediaStream, MediaStreamTrack, RtcDataChannel, RtcPeerConnection, RtcRtpTransceiver, RtcSdpType,
        RtcSessionDescriptionInit,
    };

    /// Transceiver order, the same on both sides (m-line order).
    const AUDIO: u32 = 0;
    const CAMERA: u32 = 1;
    const SCREEN: u32 = 2;

    type Shared = Rc<RefCell<Engine>>;

    thread_local! {
        static CURRENT: RefCell<Weak<RefCell<Engine>>> = const { RefCell::new(Weak::new()) };
    }

    /// The page's handle on the engine (a copyable key to a local value).
    #[derive(Clone, Copy)]
    pub struct Handle(StoredValue<Shared, LocalStorage>);

    impl Handle {
        pub fn new(
            booking_id: i64,
            me: i64,
            ui: CallUi,
            local_video: NodeRef<leptos::html::Video>,
            others: RwSignal<Vec<Presence>>,
        ) -> Handle {
            let relay = web_sys::window()
                .and_then(|w| w.location().search().ok())
                .is_some_and(|q| q.trim_start_matches('?').split('&').any(|p| p == "relay=1"));
            let engine = Rc::new(RefCell::new(Engine {
                booking_id,
                me,
                ui,
                local_video,
                others,
                relay,
                instance: String::new(),
                local: None,
                screen: None,
                ice: None,
                peers: HashMap::new(),
                outbox: VecDeque::new(),
                sending: false,
                stats: None,
            }));
            CURRENT.with(|c| *c.borrow_mut() = Rc::downgrade(&engine));
            let weak = Rc::downgrade(&engine);
            crate::live::on_call_signal(Some(Rc::new(move |data: String| {
                if let Some(engine) = weak.upgrade() {
                    on_signal_event(&engine, &data);
                }
            })));
            let handle = Handle(StoredValue::new_local(engine));
            on_cleanup(move || {
                crate::live::on_call_signal(None);
                if let Some(engine) = handle.0.try_get_value() {
                    teardown(&engine);
                }
            });
            handle
        }

        pub fn act(&self, action: Action) {
            let Some(engine) = self.0.try_get_value() else { return };
            leptos::task::spawn_local(async move { act(engine, action).await });
        }
    }

    /// A remote tile's video elements get their streams once mounted, and again whenever the connection's
    /// tracks change (a new connection after a reconnect has new ones). The streams are made from the
    /// receivers of the fixed transceivers, so the camera tile always shows transceivers 0–1 and the screen
    /// tile transceiver 2, whatever the order in which tracks arrive.
    pub fn attach(peer: RemoteView, camera: NodeRef<leptos::html::Video>, screen: NodeRef<leptos::html::Video>) {
        let user_id = peer.user_id;
        Effect::new(move |_| {
            peer.tracks.track();
            let (Some(camera), Some(screen)) = (camera.get(), screen.get()) else { return };
            let Some(engine) = CURRENT.with(|c| c.borrow().upgrade()) else { return };
            let streams = {
                let e = engine.borrow();
                let Some(peer) = e.peers.get(&user_id) else { return };
                (peer.received(&[AUDIO, CAMERA]), peer.received(&[SCREEN]))
            };
            if let (Some(camera_stream), Some(screen_stream)) = streams {
                show(&camera, &camera_stream);
                show(&screen, &screen_stream);
            }
        });
    }

    /// Puts a stream on a video element and starts it (a play() cut short by the next stream is expected).
    fn show(video: &web_sys::HtmlVideoElement, stream: &MediaStream) {
        video.set_src_object(Some(stream));
        if let Ok(playing) = video.play() {
            leptos::task::spawn_local(async move {
                let _ = JsFuture::from(playing).await;
            });
        }
    }

    struct Peer {
        pc: RtcPeerConnection,
        session: String,
        remote_instance: Option<String>,
        /// We made the offer.
        mine: bool,
        /// The remote description is set: candidates may be added.
        remote_set: bool,
        pending: Vec<Value>,
        /// Our offer and candidates, to send again if the other side missed them.
        offer_sdp: Option<String>,
        local_candidates: Vec<Value>,
        channel: RtcDataChannel,
        view: RemoteView,
        restarts: u32,
        /// Kept alive as long as the connection.
        _closures: Vec<Box<dyn std::any::Any>>,
    }

    impl Peer {
        fn close(&self) {
            self.pc.set_onicecandidate(None);
            self.pc.set_ontrack(None);
            self.pc.set_onconnectionstatechange(None);
            self.channel.set_onmessage(None);
            self.channel.set_onopen(None);
            self.channel.close();
            self.pc.close();
        }

        fn transceiver(&self, index: u32) -> Option<RtcRtpTransceiver> {
            self.pc.get_transceivers().get(index).dyn_into::<RtcRtpTransceiver>().ok()
        }

        /// A stream of what this connection receives on the given transceivers.
        fn received(&self, indexes: &[u32]) -> Option<MediaStream> {
            let stream = MediaStream::new().ok()?;
            for index in indexes {
                if let Some(t) = self.transceiver(*index) {
                    stream.add_track(&t.receiver().track());
                }
            }
            Some(stream)
        }
    }

    struct Engine {
        booking_id: i64,
        me: i64,
        ui: CallUi,
        local_video: NodeRef<leptos::html::Video>,
        others: RwSignal<Vec<Presence>>,
        relay: bool,
        /// This page's incarnation in the call (new at each Join).
        instance: String,
        local: Option<MediaStream>,
        screen: Option<MediaStreamTrack>,
        /// The ICE servers (as `RTCConfiguration.iceServers` takes them) and when they expire (ms).
        ice: Option<(JsValue, f64)>,
        peers: HashMap<i64, Peer>,
        outbox: VecDeque<Value>,
        sending: bool,
        stats: Option<IntervalHandle>,
    }

    impl Engine {
        fn joined(&self) -> bool {
            self.ui.phase.get_untracked() == Phase::InCall
        }

        fn track(&self, kind: &str) -> Option<MediaStreamTrack> {
            let stream = self.local.as_ref()?;
            let tracks = if kind == "audio" { stream.get_audio_tracks() } else { stream.get_video_tracks() };
            tracks.get(0).dyn_into::<MediaStreamTrack>().ok()
        }

        fn name_of(&self, user_id: i64) -> String {
            self.others
                .get_untracked()
                .iter()
                .find(|p| p.user_id == user_id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| "The other side".to_string())
        }

        fn sync_views(&self) {
            let mut views: Vec<RemoteView> = self.peers.values().map(|p| p.view).collect();
            views.sort_by_key(|v| v.user_id);
            self.ui.peers.set(views);
        }

        fn refresh_status(&self) {
            if !self.joined() {
                return;
            }
            let status = if self.peers.is_empty() {
                "You are in the call. Waiting for the others to join…".to_string()
            } else {
                let mut parts: Vec<String> = self
                    .peers
                    .values()
                    .map(|p| format!("{}: {}", p.view.name.get_untracked(), p.view.state.get_untracked()))
                    .collect();
                parts.sort();
                parts.join("; ")
            };
            self.ui.status.set(status);
        }

        /// Tells every peer our state over the data channel.
        fn announce(&self) {
            let message = json!({
                "muted": self.ui.muted.get_untracked(),
                "camera_off": self.ui.camera_off.get_untracked() || !self.ui.has_camera.get_untracked(),
                "sharing": self.ui.sharing.get_untracked(),
            })
            .to_string();
            for peer in self.peers.values() {
                if peer.channel.ready_state() == web_sys::RtcDataChannelState::Open {
                    let _ = peer.channel.send_with_str(&message);
                }
            }
        }
    }

    fn random_id() -> String {
        format!("{:x}{:x}", (js_sys::Math::random() * 1e15) as u64, js_sys::Date::now() as u64)
    }

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    // ---- actions -------------------------------------------------------------------------------------------

    async fn act(engine: Shared, action: Action) {
        match action {
            Action::Preview => {
                if start_media(&engine).await {
                    let ui = engine.borrow().ui;
                    ui.phase.set(Phase::Preview);
                    ui.status.set("This is how you look and sound. Join when ready.".into());
                }
            }
            Action::StopPreview => {
                stop_media(&engine);
                let ui = engine.borrow().ui;
                ui.phase.set(Phase::Idle);
                ui.status.set("You have not joined the video yet.".into());
            }
            Action::Join => join(engine).await,
            Action::Mute => {
                let e = engine.borrow();
                let muted = !e.ui.muted.get_untracked();
                if let Some(track) = e.track("audio") {
                    track.set_enabled(!muted);
                }
                e.ui.muted.set(muted);
                e.announce();
            }
            Action::CameraToggle => {
                let e = engine.borrow();
                let off = !e.ui.camera_off.get_untracked();
                if let Some(track) = e.track("video") {
                    track.set_enabled(!off);
                }
                e.ui.camera_off.set(off);
                e.announce();
            }
            Action::SwitchCamera => {
                let (cameras, current) = {
                    let ui = engine.borrow().ui;
                    (ui.cameras.get_untracked(), ui.camera_id.get_untracked())
                };
                let at = cameras.iter().position(|(id, _)| *id == current).unwrap_or(0);
                if let Some((next, _)) = cameras.get((at + 1) % cameras.len().max(1)) {
                    switch_device(&engine, "video", next.clone()).await;
                }
            }
            Action::Camera(id) => switch_device(&engine, "video", id).await,
            Action::Microphone(id) => switch_device(&engine, "audio", id).await,
            Action::Share => {
                let sharing = engine.borrow().ui.sharing.get_untracked();
                if sharing {
                    stop_sharing(&engine).await;
                } else {
                    share(&engine).await;
                }
            }
            Action::HangUp => leave(&engine, true),
        }
    }

    /// A sentence for a refused `getUserMedia` / `getDisplayMedia`.
    fn media_error(error: &JsValue) -> (&'static str, String) {
        let name = js_sys::Reflect::get(error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
        let text = match name.as_str() {
            "NotAllowedError" | "SecurityError" => {
                "Your browser refused the camera and microphone. Allow them for this site (the icon in the address bar), then try again."
            }
            "NotFoundError" | "OverconstrainedError" => "No camera or microphone was found.",
            "NotReadableError" | "AbortError" => "The camera or microphone is in use by another program. Close it and try again.",
            _ => "The camera and microphone could not be started.",
        };
        (
            if name == "NotFoundError" || name == "OverconstrainedError" { "missing" } else { "refused" },
            text.to_string(),
        )
    }

    async fn get_user_media(constraints: Value) -> Result<MediaStream, JsValue> {
        let devices = web_sys::window().ok_or(JsValue::NULL)?.navigator().media_devices()?;
        let constraints: web_sys::MediaStreamConstraints =
            js_sys::JSON::parse(&constraints.to_string())?.unchecked_into();
        let promise = devices.get_user_media_with_constraints(&constraints)?;
        JsFuture::from(promise).await?.dyn_into::<MediaStream>()
    }

    /// Turns the camera and microphone on (once). With no camera, the microphone alone; with neither, the call
    /// still works to watch and listen. Returns false when the browser refused.
    async fn start_media(engine: &Shared) -> bool {
        if engine.borrow().local.is_some() {
            return true;
        }
        let ui = engine.borrow().ui;
        ui.busy.set(true);
        ui.error.set(None);
        ui.status.set("Asking for your camera and microphone…".into());
        let video = json!({ "width": { "ideal": 1280 }, "height": { "ideal": 720 }, "facingMode": "user" });
        let mut outcome = get_user_media(json!({ "audio": true, "video": video })).await;
        if let Err(error) = &outcome {
            if media_error(error).0 == "missing" {
                // No camera: try the microphone alone, then nothing.
                outcome = get_user_media(json!({ "audio": true })).await;
            }
        }
        ui.busy.set(false);
        let stream = match outcome {
            Ok(stream) => stream,
            Err(error) => {
                let (why, text) = media_error(&error);
                if why == "missing" {
                    ui.error.set(Some("No camera or microphone was found: you can still see, hear and chat.".into()));
                    ui.has_camera.set(false);
                    let empty = MediaStream::new().ok();
                    engine.borrow_mut().local = empty;
                    return true;
                }
                ui.error.set(Some(text));
                ui.status.set("The camera and microphone are off.".into());
                return false;
            }
        };
        ui.has_camera.set(stream.get_video_tracks().length() > 0);
        if stream.get_video_tracks().length() == 0 {
            ui.error.set(Some("No camera was found: the others will hear you but not see you.".into()));
        }
        show_local(engine, &stream);
        engine.borrow_mut().local = Some(stream);
        list_devices(engine).await;
        true
    }

    fn show_local(engine: &Shared, stream: &MediaStream) {
        if let Some(video) = engine.borrow().local_video.get_untracked() {
            video.set_muted(true);
            video.set_src_object(Some(stream));
            let _ = video.play();
        }
    }

    async fn list_devices(engine: &Shared) {
        let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok()) else { return };
        let Ok(promise) = devices.enumerate_devices() else { return };
        let Ok(list) = JsFuture::from(promise).await else { return };
        let (mut cameras, mut microphones) = (Vec::new(), Vec::new());
        for info in js_sys::Array::from(&list).iter() {
            let Ok(info) = info.dyn_into::<web_sys::MediaDeviceInfo>() else { continue };
            let label = info.label();
            match info.kind() {
                web_sys::MediaDeviceKind::Videoinput => {
                    let label = if label.is_empty() { format!("Camera {}", cameras.len() + 1) } else { label };
                    cameras.push((info.device_id(), label));
                }
                web_sys::MediaDeviceKind::Audioinput => {
                    let label = if label.is_empty() { format!("Microphone {}", microphones.len() + 1) } else { label };
                    microphones.push((info.device_id(), label));
                }
                _ => {}
            }
        }
        let e = engine.borrow();
        let current = |kind: &str| {
            e.track(kind)
                .and_then(|t| js_sys::Reflect::get(&t.get_settings(), &"deviceId".into()).ok())
                .and_then(|d| d.as_string())
                .unwrap_or_default()
        };
        e.ui.camera_id.set(current("video"));
        e.ui.microphone_id.set(current("audio"));
        e.ui.cameras.set(cameras);
        e.ui.microphones.set(microphones);
    }

    /// Another camera or microphone: the new track replaces the old one in the preview and for every peer.
    async fn switch_device(engine: &Shared, kind: &str, device_id: String) {
        let constraint = json!({ "deviceId": { "exact": device_id } });
        let request = if kind == "audio" { json!({ "audio": constraint }) } else { json!({ "video": constraint }) };
        let stream = match get_user_media(request).await {
            Ok(stream) => stream,
            Err(error) => {
                engine.borrow().ui.error.set(Some(media_error(&error).1));
                return;
            }
        };
        let tracks = if kind == "audio" { stream.get_audio_tracks() } else { stream.get_video_tracks() };
        let Ok(track) = tracks.get(0).dyn_into::<MediaStreamTrack>() else { return };
        let e = engine.borrow();
        let Some(local) = e.local.clone() else { return };
        if let Some(old) = e.track(kind) {
            local.remove_track(&old);
            old.stop();
        }
        let disabled = if kind == "audio" { e.ui.muted.get_untracked() } else { e.ui.camera_off.get_untracked() };
        track.set_enabled(!disabled);
        local.add_track(&track);
        let index = if kind == "audio" { AUDIO } else { CAMERA };
        for peer in e.peers.values() {
            if let Some(t) = peer.transceiver(index) {
                let _ = t.sender().replace_track(Some(&track));
            }
        }
        if kind == "audio" {
            e.ui.microphone_id.set(device_id);
        } else {
            e.ui.camera_id.set(device_id);
            e.ui.has_camera.set(true);
        }
        drop(e);
        show_local(engine, &local);
    }

    fn stop_media(engine: &Shared) {
        let mut e = engine.borrow_mut();
        if let Some(stream) = e.local.take() {
            for track in stream.get_tracks().iter() {
                if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                    track.stop();
                }
            }
        }
        if let Some(track) = e.screen.take() {
            track.stop();
        }
        if let Some(video) = e.local_video.get_untracked() {
            video.set_src_object(None);
        }
        e.ui.sharing.set(false);
    }

    async fn share(engine: &Shared) {
        let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok()) else { return };
        let constraints: Result<web_sys::DisplayMediaStreamConstraints, JsValue> =
            js_sys::JSON::parse(r#"{"video": true, "audio": false}"#).map(|v| v.unchecked_into());
        let Ok(constraints) = constraints else { return };
        let Ok(promise) = devices.get_display_media_with_constraints(&constraints) else { return };
        let stream = match JsFuture::from(promise).await.and_then(|s| s.dyn_into::<MediaStream>()) {
            Ok(stream) => stream,
            Err(error) => {
                let name = js_sys::Reflect::get(&error, &"name".into()).ok().and_then(|n| n.as_string());
                // Cancelling the browser's picker is not an error worth a message.
                if name.as_deref() != Some("NotAllowedError") {
                    engine.borrow().ui.error.set(Some("Your screen could not be shared.".into()));
                }
                return;
            }
        };
        let Ok(track) = stream.get_video_tracks().get(0).dyn_into::<MediaStreamTrack>() else { return };
        // Stopping from the browser's own "Stop sharing" bar ends the track.
        let weak = Rc::downgrade(engine);
        let on_ended = Closure::<dyn FnMut()>::new(move || {
            if let Some(engine) = weak.upgrade() {
                leptos::task::spawn_local(async move { stop_sharing(&engine).await });
            }
        });
        track.set_onended(Some(on_ended.as_ref().unchecked_ref()));
        on_ended.forget();
        let mut e = engine.borrow_mut();
        for peer in e.peers.values() {
            if let Some(t) = peer.transceiver(SCREEN) {
                let _ = t.sender().replace_track(Some(&track));
            }
        }
        e.screen = Some(track);
        e.ui.sharing.set(true);
        e.announce();
    }

    async fn stop_sharing(engine: &Shared) {
        let mut e = engine.borrow_mut();
        let Some(track) = e.screen.take() else { return };
        track.set_onended(None);
        track.stop();
        for peer in e.peers.values() {
            if let Some(t) = peer.transceiver(SCREEN) {
                let _ = t.sender().replace_track(None);
            }
        }
        e.ui.sharing.set(false);
        e.announce();
    }

    async fn join(engine: Shared) {
        if !start_media(&engine).await {
            return;
        }
        if fetch_ice(&engine).await.is_err() {
            let ui = engine.borrow().ui;
            ui.error.set(Some(
                "The call could not be set up: the room may be closed. Reload the page and try again.".into(),
            ));
            return;
        }
        let targets: Vec<i64> = {
            let mut e = engine.borrow_mut();
            e.instance = random_id();
            e.ui.phase.set(Phase::InCall);
            e.ui.error.set(None);
            e.ui.waiting.set(None);
            e.others.get_untracked().iter().map(|p| p.user_id).filter(|id| *id != e.me).collect()
        };
        start_stats(&engine);
        engine.borrow().refresh_status();
        for user_id in targets {
            let name = engine.borrow().name_of(user_id);
            offer_to(&engine, user_id, &name, None).await;
        }
    }

    /// Hangs up: says bye to everyone (when `tell`), closes every connection, turns the camera off.
    fn leave(engine: &Shared, tell: bool) {
        let peers: Vec<(i64, Option<String>)> = {
            let mut e = engine.borrow_mut();
            if let Some(stats) = e.stats.take() {
                stats.clear();
            }
            let peers = e.peers.iter().map(|(id, p)| (*id, p.remote_instance.clone())).collect();
            for (_, peer) in e.peers.drain() {
                peer.close();
            }
            e.sync_views();
            peers
        };
        if tell && engine.borrow().joined() {
            let instance = engine.borrow().instance.clone();
            for (to, to_instance) in peers {
                send(engine, to, "bye", json!({ "instance": instance, "to_instance": to_instance }));
            }
        }
        stop_media(engine);
        let ui = engine.borrow().ui;
        if ui.phase.get_untracked() == Phase::InCall || ui.phase.get_untracked() == Phase::Preview {
            ui.phase.set(Phase::Ended);
            ui.status.set("You left the call.".into());
        }
    }

    /// Leaving the page: the others are told, everything is closed. (The page's signals may already be gone,
    /// so none is touched.)
    fn teardown(engine: &Shared) {
        let mut e = engine.borrow_mut();
        if let Some(stats) = e.stats.take() {
            stats.clear();
        }
        let joined = !e.instance.is_empty() && !e.peers.is_empty();
        let (booking_id, instance) = (e.booking_id, e.instance.clone());
        for (to, peer) in e.peers.drain() {
            peer.close();
            if joined {
                let body = json!({ "kind": "bye", "to_user_id": to, "payload": { "instance": instance } });
                leptos::task::spawn_local(async move {
                    let _ = post_signal(booking_id, &body).await;
                });
            }
        }
        for track in [e.local.take().map(|s| s.get_tracks()), None].into_iter().flatten() {
            for t in track.iter() {
                if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                    t.stop();
                }
            }
        }
        if let Some(track) = e.screen.take() {
            track.stop();
        }
    }

    // ---- signalling ----------------------------------------------------------------------------------------

    async fn fetch_ice(engine: &Shared) -> Result<(), JsValue> {
        let (booking_id, fresh) = {
            let e = engine.borrow();
            (e.booking_id, e.ice.as_ref().is_some_and(|(_, expires)| *expires - 60_000.0 > now_ms()))
        };
        if fresh {
            return Ok(());
        }
        let window = web_sys::window().ok_or(JsValue::NULL)?;
        let promise = window.fetch_with_str(&format!("/api/v1/bookings/{booking_id}/ice"));
        let response: web_sys::Response = JsFuture::from(promise).await?.dyn_into()?;
        if !response.ok() {
            return Err(JsValue::from(response.status()));
        }
        let body = JsFuture::from(response.json()?).await?;
        let servers = js_sys::Reflect::get(&body, &"ice_servers".into())?;
        let expires = js_sys::Reflect::get(&body, &"expires_at".into())?
            .as_string()
            .map(|t| js_sys::Date::parse(&t))
            .filter(|t| t.is_finite())
            .unwrap_or_else(|| now_ms() + 600_000.0);
        engine.borrow_mut().ice = Some((servers, expires));
        Ok(())
    }

    /// Queues a signal; signals go out one at a time, in order (an offer before its candidates).
    fn send(engine: &Shared, to: i64, kind: &str, payload: Value) {
        let start = {
            let mut e = engine.borrow_mut();
            e.outbox.push_back(json!({ "kind": kind, "to_user_id": to, "payload": payload }));
            !std::mem::replace(&mut e.sending, true)
        };
        if start {
            let engine = engine.clone();
            leptos::task::spawn_local(async move {
                loop {
                    let (next, booking_id) = {
                        let mut e = engine.borrow_mut();
                        let next = e.outbox.pop_front();
                        if next.is_none() {
                            e.sending = false;
                        }
                        (next, e.booking_id)
                    };
                    let Some(body) = next else { break };
                    if post_signal(booking_id, &body).await.is_err() {
                        engine.borrow().ui.error.set(Some(
                            "A message to the other side could not be sent; the connection may not start.".into(),
                        ));
                    }
                }
            });
        }
    }

    async fn post_signal(booking_id: i64, body: &Value) -> Result<(), JsValue> {
        let window = web_sys::window().ok_or(JsValue::NULL)?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&body.to_string()));
        let headers = web_sys::Headers::new()?;
        headers.set("content-type", "application/json")?;
        init.set_headers(&headers);
        let promise = window.fetch_with_str_and_init(&format!("/api/v1/bookings/{booking_id}/signal"), &init);
        let response: web_sys::Response = JsFuture::from(promise).await?.dyn_into()?;
        if response.ok() {
            Ok(())
        } else {
            Err(JsValue::from(response.status()))
        }
    }

    fn on_signal_event(engine: &Shared, data: &str) {
        let Ok(event) = serde_json::from_str::<Value>(data) else { return };
        let signal = &event["payload"];
        if signal["booking_id"].as_i64() != Some(engine.borrow().booking_id) {
            return;
        }
        let (Some(from), Some(kind)) = (signal["from_user_id"].as_i64(), signal["kind"].as_str()) else { return };
        let name = signal["from_name"].as_str().unwrap_or("The other side").to_string();
        let payload = signal["payload"].clone();
        let kind = kind.to_string();
        let engine = engine.clone();
        leptos::task::spawn_local(async move { handle_signal(&engine, from, &name, &kind, payload).await });
    }

    async fn handle_signal(engine: &Shared, from: i64, name: &str, kind: &str, payload: Value) {
        let (joined, instance, me) = {
            let e = engine.borrow();
            (e.joined(), e.instance.clone(), e.me)
        };
        if !joined {
            if kind == "offer" {
                engine.borrow().ui.waiting.set(Some(name.to_string()));
            }
            return;
        }
        let their_instance = payload["instance"].as_str().unwrap_or_default().to_string();
        let session = payload["session"].as_str().unwrap_or_default().to_string();
        if let Some(to) = payload["to_instance"].as_str() {
            if to != instance {
                return; // meant for an earlier visit of ours
            }
        }
        match kind {
            "offer" => {
                let Some(sdp) = payload["sdp"].as_str() else { return };
                let resend = {
                    let mut e = engine.borrow_mut();
                    match e.peers.get_mut(&from) {
                        Some(peer) if peer.session == session => return,
                        Some(peer)
                            if peer.mine
                                && peer.pc.signaling_state() == web_sys::RtcSignalingState::HaveLocalOffer
                                && me < from =>
                        {
                            // Both offered: ours stands. Send it again to their instance, in case they missed it.
                            peer.remote_instance = Some(their_instance.clone());
                            Some((peer.session.clone(), peer.offer_sdp.clone(), peer.local_candidates.clone()))
                        }
                        _ => None,
                    }
                };
                if let Some((session, Some(sdp), candidates)) = resend {
                    let me_instance = instance.clone();
                    let to = Some(their_instance.clone());
                    send(
                        engine,
                        from,
                        "offer",
                        json!({ "instance": me_instance, "session": session, "to_instance": to, "sdp": sdp }),
                    );
                    for candidate in candidates {
                        send(
                            engine,
                            from,
                            "candidate",
                            json!({ "instance": instance, "session": session, "to_instance": to, "candidate": candidate }),
                        );
                    }
                    return;
                }
                answer(engine, from, name, &their_instance, &session, sdp).await;
            }
            "answer" => {
                let Some(sdp) = payload["sdp"].as_str() else { return };
                let pc = {
                    let mut e = engine.borrow_mut();
                    let Some(peer) = e.peers.get_mut(&from) else { return };
                    if peer.session != session
                        || !peer.mine
                        || peer.pc.signaling_state() != web_sys::RtcSignalingState::HaveLocalOffer
                    {
                        return;
                    }
                    peer.remote_instance = Some(their_instance);
                    peer.pc.clone()
                };
                let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
                description.set_sdp(sdp);
                if JsFuture::from(pc.set_remote_description(&description)).await.is_ok() {
                    flush_candidates(engine, from, &session).await;
                }
            }
            "candidate" => {
                let candidate = payload["candidate"].clone();
                let pc = {
                    let mut e = engine.borrow_mut();
                    let Some(peer) = e.peers.get_mut(&from) else { return };
                    if peer.session != session {
                        return;
                    }
                    if !peer.remote_set {
                        peer.pending.push(candidate);
                        return;
                    }
                    peer.pc.clone()
                };
                add_candidate(&pc, &candidate).await;
            }
            "bye" => {
                let ended = {
                    let mut e = engine.borrow_mut();
                    let Some(peer) = e.peers.get(&from) else { return };
                    if peer.remote_instance.as_deref().is_some_and(|i| i != their_instance) {
                        return;
                    }
                    if let Some(peer) = e.peers.remove(&from) {
                        peer.close();
                    }
                    e.sync_views();
                    e.peers.is_empty()
                };
                if ended {
                    leave(engine, false);
                    engine.borrow().ui.status.set(format!("{name} hung up. The call has ended."));
                } else {
                    engine.borrow().refresh_status();
                }
            }
            _ => {}
        }
    }

    async fn add_candidate(pc: &RtcPeerConnection, candidate: &Value) {
        let Some(text) = candidate["candidate"].as_str() else { return };
        let init = web_sys::RtcIceCandidateInit::new(text);
        init.set_sdp_mid(candidate["sdpMid"].as_str());
        init.set_sdp_m_line_index(candidate["sdpMLineIndex"].as_u64().and_then(|i| u16::try_from(i).ok()));
        let _ = JsFuture::from(pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init))).await;
    }

    async fn flush_candidates(engine: &Shared, from: i64, session: &str) {
        let (pc, pending) = {
            let mut e = engine.borrow_mut();
            let Some(peer) = e.peers.get_mut(&from) else { return };
            if peer.session != session {
                return;
            }
            peer.remote_set = true;
            (peer.pc.clone(), std::mem::take(&mut peer.pending))
        };
        for candidate in pending {
            add_candidate(&pc, &candidate).await;
        }
    }

    /// A new connection to `user_id`, its handlers and its three transceivers' tracks. Replaces any old one.
    fn connect(engine: &Shared, user_id: i64, name: &str, session: &str, mine: bool) -> Option<RtcPeerConnection> {
        let (servers, relay) = {
            let e = engine.borrow();
            (e.ice.as_ref().map(|(s, _)| s.clone()).unwrap_or_else(|| js_sys::Array::new().into()), e.relay)
        };
        let config = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&config, &"iceServers".into(), &servers);
        let _ =
            js_sys::Reflect::set(&config, &"iceTransportPolicy".into(), &(if relay { "relay" } else { "all" }).into());
        let pc = RtcPeerConnection::new_with_configuration(config.unchecked_ref()).ok()?;
        if mine {
            for kind in ["audio", "video", "video"] {
                let init = web_sys::RtcRtpTransceiverInit::new();
                init.set_direction(web_sys::RtcRtpTransceiverDirection::Sendrecv);
                pc.add_transceiver_with_str_and_init(kind, &init);
            }
        }
        // Negotiated on both sides with the same id: no extra round trip.
        let channel_init = web_sys::RtcDataChannelInit::new();
        channel_init.set_negotiated(true);
        channel_init.set_id(0);
        let channel = pc.create_data_channel_with_data_channel_dict("state", &channel_init);
        let weak = Rc::downgrade(engine);
        let session_owned = session.to_string();

        let on_candidate = {
            let (weak, session) = (weak.clone(), session_owned.clone());
            Closure::<dyn FnMut(web_sys::RtcPeerConnectionIceEvent)>::new(
                move |event: web_sys::RtcPeerConnectionIceEvent| {
                    let (Some(engine), Some(candidate)) = (weak.upgrade(), event.candidate()) else { return };
                    let value = json!({
                        "candidate": candidate.candidate(),
                        "sdpMid": candidate.sdp_mid(),
                        "sdpMLineIndex": candidate.sdp_m_line_index(),
                    });
                    let (instance, to_instance) = {
                        let mut e = engine.borrow_mut();
                        let Some(peer) = e.peers.get_mut(&user_id).filter(|p| p.session == session) else { return };
                        peer.local_candidates.push(value.clone());
                        let to_instance = peer.remote_instance.clone();
                        (e.instance.clone(), to_instance)
                    };
                    send(
                        &engine,
                        user_id,
                        "candidate",
                        json!({ "instance": instance, "session": session, "to_instance": to_instance, "candidate": value }),
                    );
                },
            )
        };
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));

        // The tile builds its streams from the receivers (see `attach`); a new track only tells it to.
        let on_track = {
            let weak = weak.clone();
            Closure::<dyn FnMut(web_sys::RtcTrackEvent)>::new(move |_: web_sys::RtcTrackEvent| {
                if let Some(engine) = weak.upgrade() {
                    if let Some(peer) = engine.borrow().peers.get(&user_id) {
                        peer.view.tracks.update(|n| *n += 1);
                    }
                }
            })
        };
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        let on_state = {
            let (weak, pc2, session) = (weak.clone(), pc.clone(), session_owned.clone());
            Closure::<dyn FnMut()>::new(move || {
                let Some(engine) = weak.upgrade() else { return };
                connection_changed(&engine, user_id, &session, pc2.connection_state());
            })
        };
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));

        let on_message = {
            let weak = weak.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let (Some(engine), Some(text)) = (weak.upgrade(), event.data().as_string()) else { return };
                let Ok(state) = serde_json::from_str::<Value>(&text) else { return };
                let e = engine.borrow();
                if let Some(peer) = e.peers.get(&user_id) {
                    peer.view.muted.set(state["muted"].as_bool().unwrap_or(false));
                    peer.view.camera_off.set(state["camera_off"].as_bool().unwrap_or(false));
                    peer.view.sharing.set(state["sharing"].as_bool().unwrap_or(false));
                }
            })
        };
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let on_open = {
            let weak = weak.clone();
            Closure::<dyn FnMut()>::new(move || {
                if let Some(engine) = weak.upgrade() {
                    engine.borrow().announce();
                }
            })
        };
        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));

        let mut e = engine.borrow_mut();
        let (view, restarts) = match e.peers.remove(&user_id) {
            Some(old) => {
                old.close();
                (old.view, old.restarts)
            }
            None => (RemoteView::new(user_id, name), 0),
        };
        view.state.set("Connecting…".into());
        view.sharing.set(false);
        e.peers.insert(
            user_id,
            Peer {
                pc: pc.clone(),
                session: session_owned,
                remote_instance: None,
                mine,
                remote_set: false,
                pending: Vec::new(),
                offer_sdp: None,
                local_candidates: Vec::new(),
                channel,
                view,
                restarts,
                _closures: vec![
                    Box::new(on_candidate),
                    Box::new(on_track),
                    Box::new(on_state),
                    Box::new(on_message),
                    Box::new(on_open),
                ],
            },
        );
        e.sync_views();
        drop(e);
        Some(pc)
    }

    /// Puts our tracks on a connection's three transceivers (sending on all of them).
    fn send_tracks(engine: &Shared, user_id: i64) {
        let e = engine.borrow();
        let Some(peer) = e.peers.get(&user_id) else { return };
        let tracks = [e.track("audio"), e.track("video"), e.screen.clone()];
        for (index, track) in tracks.iter().enumerate() {
            if let Some(t) = peer.transceiver(index as u32) {
                t.set_direction(web_sys::RtcRtpTransceiverDirection::Sendrecv);
                let _ = t.sender().replace_track(track.as_ref());
            }
        }
    }

    async fn offer_to(engine: &Shared, user_id: i64, name: &str, to_instance: Option<String>) {
        let session = random_id();
        let Some(pc) = connect(engine, user_id, name, &session, true) else { return };
        if let Some(peer) = engine.borrow_mut().peers.get_mut(&user_id) {
            peer.remote_instance = to_instance.clone();
        }
        send_tracks(engine, user_id);
        let Ok(offer) = JsFuture::from(pc.create_offer()).await else { return };
        let sdp = js_sys::Reflect::get(&offer, &"sdp".into()).ok().and_then(|s| s.as_string()).unwrap_or_default();
        let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        description.set_sdp(&sdp);
        if JsFuture::from(pc.set_local_description(&description)).await.is_err() {
            return;
        }
        let instance = {
            let mut e = engine.borrow_mut();
            match e.peers.get_mut(&user_id).filter(|p| p.session == session) {
                Some(peer) => peer.offer_sdp = Some(sdp.clone()),
                None => return,
            }
            e.instance.clone()
        };
        send(
            engine,
            user_id,
            "offer",
            json!({ "instance": instance, "session": session, "to_instance": to_instance, "sdp": sdp }),
        );
        engine.borrow().refresh_status();
    }

    async fn answer(engine: &Shared, from: i64, name: &str, their_instance: &str, session: &str, sdp: &str) {
        let Some(pc) = connect(engine, from, name, session, false) else { return };
        if let Some(peer) = engine.borrow_mut().peers.get_mut(&from) {
            peer.remote_instance = Some(their_instance.to_string());
        }
        let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        description.set_sdp(sdp);
        if JsFuture::from(pc.set_remote_description(&description)).await.is_err() {
            return;
        }
        send_tracks(engine, from);
        let Ok(answer) = JsFuture::from(pc.create_answer()).await else { return };
        let sdp = js_sys::Reflect::get(&answer, &"sdp".into()).ok().and_then(|s| s.as_string()).unwrap_or_default();
        let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        description.set_sdp(&sdp);
        if JsFuture::from(pc.set_local_description(&description)).await.is_err() {
            return;
        }
        let instance = engine.borrow().instance.clone();
        send(
            engine,
            from,
            "answer",
            json!({ "instance": instance, "session": session, "to_instance": their_instance, "sdp": sdp }),
        );
        flush_candidates(engine, from, session).await;
        engine.borrow().refresh_status();
    }

    fn connection_changed(engine: &Shared, user_id: i64, session: &str, state: web_sys::RtcPeerConnectionState) {
        use web_sys::RtcPeerConnectionState as S;
        let me = engine.borrow().me;
        {
            let mut e = engine.borrow_mut();
            let Some(peer) = e.peers.get_mut(&user_id).filter(|p| p.session == session) else { return };
            let text = match state {
                S::Connected => {
                    peer.restarts = 0;
                    "connected"
                }
                S::Connecting | S::New => "connecting…",
                S::Disconnected => "connection lost, reconnecting…",
                S::Failed => "connection failed, trying again…",
                S::Closed => "left",
                _ => "connecting…",
            };
            peer.view.state.set(text.to_string());
        }
        engine.borrow().refresh_status();
        if matches!(state, S::Disconnected | S::Failed) {
            // The lower id tries first; the other waits longer, in case the first cannot.
            let wait = match (state, me < user_id) {
                (S::Failed, true) => 500,
                (S::Failed, false) => 4000,
                (_, true) => 4000,
                (_, false) => 8000,
            };
            let (weak, session) = (Rc::downgrade(engine), session.to_string());
            set_timeout(
                move || {
                    let Some(engine) = weak.upgrade() else { return };
                    leptos::task::spawn_local(async move { restart(&engine, user_id, &session).await });
                },
                std::time::Duration::from_millis(wait),
            );
        }
    }

    /// Offers a new connection when the old one (still `session`) has not recovered.
    async fn restart(engine: &Shared, user_id: i64, session: &str) {
        use web_sys::RtcPeerConnectionState as S;
        let (name, to_instance) = {
            let mut e = engine.borrow_mut();
            if !e.joined() {
                return;
            }
            let Some(peer) = e.peers.get_mut(&user_id).filter(|p| p.session == session) else { return };
            if !matches!(peer.pc.connection_state(), S::Disconnected | S::Failed) {
                return;
            }
            if peer.restarts >= MAX_RESTARTS {
                peer.view.state.set("the connection could not be restored".into());
                return;
            }
            peer.restarts += 1;
            (peer.view.name.get_untracked(), peer.remote_instance.clone())
        };
        // A TURN credential may have expired meanwhile.
        let _ = fetch_ice(engine).await;
        offer_to(engine, user_id, &name, to_instance).await;
    }

    // ---- stats: who speaks, how good the connection is, which route it takes --------------------------------

    fn start_stats(engine: &Shared) {
        let weak = Rc::downgrade(engine);
        let handle = set_interval_with_handle(
            move || {
                let Some(engine) = weak.upgrade() else { return };
                let peers: Vec<(RtcPeerConnection, RemoteView)> =
                    engine.borrow().peers.values().map(|p| (p.pc.clone(), p.view)).collect();
                for (pc, view) in peers {
                    leptos::task::spawn_local(async move { read_stats(pc, view).await });
                }
            },
            std::time::Duration::from_millis(1000),
        );
        if let Ok(handle) = handle {
            engine.borrow_mut().stats = Some(handle);
        }
    }

    fn number(stat: &JsValue, key: &str) -> Option<f64> {
        js_sys::Reflect::get(stat, &key.into()).ok().and_then(|v| v.as_f64())
    }

    fn text(stat: &JsValue, key: &str) -> Option<String> {
        js_sys::Reflect::get(stat, &key.into()).ok().and_then(|v| v.as_string())
    }

    async fn read_stats(pc: RtcPeerConnection, view: RemoteView) {
        let Ok(report) = JsFuture::from(pc.get_stats()).await else { return };
        let Ok(Some(entries)) = js_sys::try_iter(&report) else { return };
        let mut stats: HashMap<String, JsValue> = HashMap::new();
        for entry in entries.flatten() {
            let pair = js_sys::Array::from(&entry);
            if let Some(id) = pair.get(0).as_string() {
                stats.insert(id, pair.get(1));
            }
        }
        let mut speaking = false;
        let (mut lost, mut received) = (0.0, 0.0);
        let mut pair_id = None;
        for stat in stats.values() {
            match text(stat, "type").as_deref() {
                Some("inbound-rtp") => {
                    if text(stat, "kind").as_deref() == Some("audio")
                        && number(stat, "audioLevel").unwrap_or(0.0) > 0.02
                    {
                        speaking = true;
                    }
                    lost += number(stat, "packetsLost").unwrap_or(0.0);
                    received += number(stat, "packetsReceived").unwrap_or(0.0);
                }
                Some("transport") => pair_id = text(stat, "selectedCandidatePairId"),
                _ => {}
            }
        }
        view.speaking.set(speaking);
        let Some(pair) = pair_id.and_then(|id| stats.get(&id)) else { return };
        if let Some(local) = text(pair, "localCandidateId").and_then(|id| stats.get(&id)) {
            view.route.set(text(local, "candidateType").unwrap_or_default());
        }
        let rtt = number(pair, "currentRoundTripTime").unwrap_or(0.0);
        let loss = if received > 0.0 { lost / (lost + received) } else { 0.0 };
        let quality = if rtt < 0.15 && loss < 0.02 {
            "good connection"
        } else if rtt < 0.4 && loss < 0.08 {
            "fair connection"
        } else {
            "poor connection"
        };
        view.quality.set(quality.to_string());
    }
}
