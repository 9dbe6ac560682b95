//! Strings of the built-in ITS sandbox's own pages (the fake provider's login/approve page
//! and its shop list). Kept apart from the app's so the sandbox shares nothing else with it.

super::catalogue!(SandboxMessages {
    sandbox_title => "ITS sandbox", "ITS sandbox";
});
