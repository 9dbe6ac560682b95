//! Strings of the app's own pages.

super::catalogue!(Messages {
    // The frame of every page
    app_name => "shoplink", "shoplink";
    footer => "shoplink — kết nối cửa hàng với ITS (Zalo ZNS, tổng đài)", "shoplink — links shops to ITS (Zalo ZNS, call centre)";
    skip_to_content => "Bỏ qua, đến nội dung chính", "Skip to main content";
    nav_label => "Điều hướng chính", "Main navigation";
    nav_shops => "Cửa hàng của tôi", "My shops";
    nav_admin_overview => "Tổng quan", "Overview";
    nav_admin_shops => "Cửa hàng", "Shops";
    nav_admin_users => "Người dùng", "Users";
    nav_admin_jobs => "Kiểm tra hàng loạt", "Bulk verify";
    nav_admin_settings => "Cài đặt", "Settings";
    logout => "Đăng xuất", "Log out";
    switch_language => "English", "Tiếng Việt";
    sandbox_badge => "Chế độ thử nghiệm (sandbox)", "Sandbox mode";
    sandbox_explainer => "Ứng dụng đang dùng ITS giả lập chạy trên máy này, không kết nối với ITS thật.", "The app is talking to a simulated ITS on this machine, not to the real provider.";
    sandbox_open => "Mở trang quản lý sandbox", "Open the sandbox's page";
    back_home => "Về trang chủ", "Back to the home page";
    cancel => "Huỷ", "Cancel";
    optional => "không bắt buộc", "optional";

    // Login
    login_title => "Đăng nhập", "Log in";
    login_button => "Đăng nhập", "Log in";
    field_email => "Email", "Email";
    field_password => "Mật khẩu", "Password";
    error_login_failed => "Email hoặc mật khẩu không đúng.", "The email or the password is wrong.";
    error_login_required => "Vui lòng đăng nhập để tiếp tục.", "Please log in to continue.";
    error_password_too_short => "Mật khẩu cần ít nhất 10 ký tự.", "The password needs at least 10 characters.";
    error_password_too_long => "Mật khẩu dài quá 128 ký tự.", "The password is longer than 128 characters.";

    // Shops
    shops_title => "Cửa hàng của tôi", "My shops";
    shops_empty => "Bạn chưa có cửa hàng nào. Thêm cửa hàng đầu tiên để kết nối với Zalo qua ITS.", "You have no shop yet. Add your first shop to connect it to Zalo through ITS.";
    add_shop => "Thêm cửa hàng", "Add a shop";
    new_shop_title => "Thêm cửa hàng", "Add a shop";
    field_shop_name => "Tên cửa hàng", "Shop name";
    field_phone => "Số điện thoại", "Phone";
    field_external_id => "Mã cửa hàng trong hệ thống của bạn", "Your own shop id";
    external_id_hint => "Nếu có, ITS sẽ ghi lại mã này cùng liên kết để đối chiếu về sau.", "If given, ITS records it with the link so both sides can match records later.";
    save_shop => "Lưu cửa hàng", "Save shop";
    shop_title => "Cửa hàng", "Shop";
    updated_label => "Cập nhật", "Updated";
    details_heading => "Thông tin cửa hàng", "Shop details";
    back_to_shops => "Danh sách cửa hàng", "All shops";
    back_to_shop => "Về trang cửa hàng", "Back to the shop";
    flash_shop_created => "Đã thêm cửa hàng. Bấm \"Kết nối Zalo\" để liên kết với ITS.", "Shop added. Press \"Connect Zalo\" to link it with ITS.";
    error_external_id_invalid => "Mã cửa hàng tối đa 100 ký tự, không chứa ký tự điều khiển.", "The shop id has at most 100 characters and no control characters.";
    error_external_id_taken => "Bạn đã có một cửa hàng khác với mã này.", "You already have another shop with this id.";

    // The connection
    connection_heading => "Kết nối ITS", "ITS connection";
    connect_zalo => "Kết nối Zalo", "Connect Zalo";
    reconnect_zalo => "Kết nối lại", "Reconnect";
    connect_again => "Thử kết nối lại", "Try connecting again";
    connect_explainer => "Khi bấm \"Kết nối Zalo\", bạn sẽ được chuyển sang trang đăng nhập của ITS. Đăng nhập và đồng ý, rồi bạn sẽ được đưa về đây.", "When you press \"Connect Zalo\" you go to the ITS login page. Log in and approve, and you come straight back here.";
    connected_explainer => "Cửa hàng đã kết nối với ITS. Khoá cửa hàng được lưu mã hoá và chỉ hiển thị 4 ký tự cuối.", "The shop is connected to ITS. Its shop key is stored encrypted and only its last 4 characters are shown.";
    steps_label => "Các bước kết nối", "Connection steps";
    step_your_shop => "Cửa hàng của bạn", "Your shop";
    step_its_login => "Đăng nhập ITS", "ITS login";
    step_done => "Hoàn tất", "Done";
    its_shop_label => "Cửa hàng trên ITS", "ITS shop";
    its_shop_id_label => "Mã cửa hàng ITS", "ITS shop id";
    shop_key_label => "Khoá cửa hàng", "Shop key";
    key_unreadable => "Không giải mã được khoá đã lưu; vui lòng kết nối lại.", "The stored key cannot be decrypted; please reconnect.";
    last_verified_label => "Kiểm tra lần cuối", "Last verified";
    failure_heading => "Kết nối chưa thành công:", "The connection did not succeed:";
    provider_said => "ITS trả lời", "ITS said";
    flash_connected => "Đã kết nối với ITS: {}", "Connected to ITS: {}";
    disconnect => "Ngắt kết nối", "Disconnect";
    disconnect_title => "Ngắt kết nối cửa hàng?", "Disconnect this shop?";
    disconnect_warning => "Khoá cửa hàng sẽ bị xoá khỏi hệ thống. Các hệ thống dùng khoá này sẽ không gửi được thông báo Zalo cho tới khi bạn kết nối lại.", "The shop key will be deleted. Systems that use it cannot send Zalo notifications until you connect again.";
    disconnect_confirm => "Có, ngắt kết nối", "Yes, disconnect";
    flash_disconnected => "Đã ngắt kết nối. Khoá cửa hàng đã được xoá.", "Disconnected. The shop key has been deleted.";
    error_nothing_to_disconnect => "Cửa hàng này chưa kết nối nên không có gì để ngắt.", "This shop is not connected, so there is nothing to disconnect.";

    // States
    state_not_connected => "Chưa kết nối", "Not connected";
    state_pending => "Đang chờ ITS", "Waiting for ITS";
    state_connected => "Đã kết nối", "Connected";
    state_needs_reauth => "Cần đăng nhập lại", "Needs re-auth";
    state_failed => "Kết nối lỗi", "Failed";
    state_disconnected => "Đã ngắt kết nối", "Disconnected";

    // History
    history_heading => "Lịch sử", "History";
    history_empty => "Chưa có thay đổi nào.", "No changes yet.";
    actor_its => "ITS", "ITS";
    actor_system => "Hệ thống", "System";
    actor_user => "Người dùng", "A user";
    event_shop_created => "Tạo cửa hàng", "Shop created";
    event_connect_started => "Bắt đầu kết nối", "Connection started";
    event_connected => "Đã lưu và kiểm tra khoá cửa hàng", "Shop key stored and verified";
    event_disconnected => "Ngắt kết nối, đã xoá khoá", "Disconnected, key deleted";
    event_its_shop_id_forgotten => "ITS không nhận mã cửa hàng cũ; kết nối lại từ đầu", "ITS did not know the old shop id; starting over";

    // The callback
    callback_refused_heading => "Liên kết không hợp lệ", "This link is not valid";
    callback_used_heading => "Liên kết đã được dùng", "This link was already used";
    login_again_heading => "ITS cần bạn đăng nhập lại", "ITS asks you to log in again";
    login_again_message => "ITS cần cửa hàng đăng nhập thêm một lần nữa để hoàn tất kết nối.", "ITS needs the shop to log in once more to finish the connection.";
    login_again_button => "Đăng nhập lại trên ITS", "Log in again on ITS";
    error_callback_malformed => "Đường dẫn trả về từ ITS bị thiếu hoặc sai thông tin. Hãy bắt đầu kết nối lại từ trang cửa hàng.", "The link back from ITS is missing information or malformed. Start the connection again from the shop's page.";
    error_callback_unknown => "Không tìm thấy yêu cầu kết nối này. Hãy bắt đầu lại từ trang cửa hàng.", "This connection request is unknown. Start again from the shop's page.";
    error_callback_expired => "Yêu cầu kết nối đã hết hạn (sau 15 phút). Hãy bấm kết nối lại.", "The connection request expired (after 15 minutes). Press connect again.";
    error_callback_used => "Yêu cầu kết nối này đã được xử lý rồi. Xem kết quả trên trang cửa hàng.", "This connection request has already been handled. See the result on the shop's page.";
    error_callback_shop_not_linked => "ITS không xác nhận cửa hàng trong đường dẫn trả về. Hãy kết nối lại.", "ITS did not confirm the shop in the link back. Please connect again.";
    error_shop_id_mismatch => "Cửa hàng ITS trả về khác với cửa hàng đã liên kết trước đó. Yêu cầu đã bị từ chối để bảo vệ tài khoản.", "ITS answered for a different shop than the one already linked. The request was refused to protect the account.";
    error_too_many_attempts => "Bạn đang có quá nhiều yêu cầu kết nối dở dang. Hãy đợi vài phút rồi thử lại.", "You have too many unfinished connection requests. Wait a few minutes and try again.";
    error_shop_changed_meanwhile => "Cửa hàng vừa được thay đổi ở nơi khác. Hãy tải lại trang và thử lại.", "The shop was changed elsewhere meanwhile. Reload the page and try again.";

    // What ITS answered
    error_its_api_key => "ITS không chấp nhận khoá API của đối tác: đây là lỗi cấu hình, vui lòng báo quản trị viên.", "ITS refused the partner API key: this is a configuration problem, please tell an administrator.";
    error_its_key_rejected => "ITS không chấp nhận khoá cửa hàng vừa nhận. Hãy kết nối lại.", "ITS did not accept the shop key it just gave. Please connect again.";
    error_its_permission_denied => "Cửa hàng này chưa từng liên kết với đối tác trên ITS.", "This shop has never been linked with the partner on ITS.";
    error_its_account_closed => "Tài khoản cửa hàng trên ITS đã bị đóng. Vui lòng liên hệ ITS.", "The shop's ITS account is closed. Please contact ITS.";
    error_its_invalid_argument => "ITS cho rằng thông tin gửi đi chưa hợp lệ (ví dụ email hoặc số điện thoại). Hãy kiểm tra thông tin cửa hàng.", "ITS says some information is not valid (e.g. email or phone). Check the shop's details.";
    error_its_failed_precondition => "ITS từ chối yêu cầu ở trạng thái hiện tại của cửa hàng.", "ITS refused the request in the shop's current state.";
    error_its_bad_route => "Địa chỉ ITS được cấu hình không đúng. Vui lòng báo quản trị viên.", "The configured ITS address is wrong. Please tell an administrator.";
    error_its_already_exists => "ITS báo liên kết này đã tồn tại.", "ITS says this link already exists.";
    error_its_unavailable => "ITS đang gặp sự cố. Vui lòng thử lại sau ít phút.", "ITS is having trouble. Please try again in a few minutes.";
    error_its_timeout => "ITS không trả lời kịp. Vui lòng thử lại.", "ITS did not answer in time. Please try again.";
    error_its_unreachable => "Không kết nối được tới ITS. Vui lòng thử lại sau.", "ITS could not be reached. Please try again later.";
    error_its_bad_answer => "ITS trả lời không đúng định dạng. Vui lòng thử lại sau.", "ITS gave an answer we could not read. Please try again later.";
    error_its_unknown => "ITS báo một lỗi chưa biết.", "ITS reported an unknown error.";
    error_its_relogin_loop => "ITS vẫn yêu cầu đăng nhập lại sau nhiều lần thử. Hãy thử lại sau hoặc liên hệ ITS.", "ITS kept asking for another login. Try again later or contact ITS.";
    error_its_shop_taken => "Cửa hàng ITS này đã được liên kết với một cửa hàng khác trong hệ thống. Quản trị viên có thể xem cửa hàng đó.", "This ITS shop is already linked to another shop here. An administrator can see which one.";
    error_its_auth_url_refused => "ITS gửi về một địa chỉ đăng nhập không được phép. Vui lòng báo quản trị viên.", "ITS sent a login address that is not allowed. Please tell an administrator.";

    // Errors of any page
    error_title => "Có lỗi xảy ra", "Something went wrong";
    error_not_found => "Không tìm thấy trang này.", "This page does not exist.";
    error_forbidden => "Bạn không có quyền xem trang này.", "You are not allowed to see this page.";
    error_csrf => "Biểu mẫu đã hết hạn hoặc không đến từ trang này. Hãy tải lại trang và thử lại.", "The form expired or did not come from this site. Reload the page and try again.";
    error_form_invalid => "Biểu mẫu gửi lên không hợp lệ.", "The submitted form is not valid.";
    error_form_too_large => "Nội dung gửi lên quá lớn.", "The submitted content is too large.";
    error_unavailable => "Hệ thống tạm thời không lưu được dữ liệu. Không có gì bị thay đổi; vui lòng thử lại sau.", "The system cannot store data right now. Nothing was changed; please try again later.";
    error_internal => "Đã có lỗi phía máy chủ. Không có gì bị thay đổi; vui lòng thử lại.", "The server ran into a problem. Nothing was changed; please try again.";

    // Domain checks
    error_shop_id_invalid => "Mã cửa hàng ITS không hợp lệ.", "The ITS shop id is not valid.";
    error_shop_key_invalid => "Khoá cửa hàng không hợp lệ.", "The shop key is not valid.";
    error_state_invalid => "Trạng thái không hợp lệ.", "Unknown state.";
    error_role_invalid => "Vai trò không hợp lệ.", "Unknown role.";
    error_email_invalid => "Địa chỉ email không hợp lệ.", "The email address is not valid.";
    error_phone_invalid => "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).", "The phone number is not valid (e.g. 0912 345 678).";
    error_shop_name_empty => "Vui lòng nhập tên cửa hàng.", "Please enter the shop name.";
    error_shop_name_too_long => "Tên cửa hàng dài quá 200 ký tự.", "The shop name is longer than 200 characters.";
    error_text_control_chars => "Nội dung chứa ký tự điều khiển không được phép.", "The text contains control characters that are not allowed.";

    // Admin: overview, shop list, shop detail, export
    admin_overview_title => "Tổng quan", "Overview";
    admin_all_shops => "Tất cả cửa hàng", "All shops";
    admin_states_heading => "Cửa hàng theo trạng thái kết nối", "Shops by connection state";
    admin_total => "tổng", "total";
    admin_problems_heading => "Lỗi và yêu cầu đăng nhập lại gần đây", "Newest failures and re-auth needs";
    admin_no_problems => "Không có cửa hàng nào đang lỗi hay cần đăng nhập lại.", "No shop is failing or needs re-auth.";
    admin_shops_title => "Cửa hàng", "Shops";
    admin_shop_title => "Cửa hàng", "Shop";
    admin_export_csv => "Xuất CSV", "Export CSV";
    admin_search_label => "Tìm kiếm", "Search";
    admin_search_placeholder => "Tên, điện thoại, email, mã cửa hàng, mã ITS", "Name, phone, email, shop id, ITS id";
    admin_state_filter => "Trạng thái", "State";
    admin_all_states => "Mọi trạng thái", "All states";
    admin_sort_label => "Sắp xếp", "Sort";
    admin_sort_updated => "Thay đổi gần nhất", "Last change";
    admin_sort_name => "Tên (A–Z)", "Name (A–Z)";
    admin_apply_filters => "Lọc", "Filter";
    admin_clear_filters => "Xoá bộ lọc", "Clear filters";
    admin_owner_filter => "Chỉ cửa hàng của", "Only shops of";
    admin_no_shops_match => "Không có cửa hàng nào khớp. Thử bỏ dấu hoặc bớt bộ lọc.", "No shop matches. Try fewer filters or another spelling.";
    admin_last_change => "Thay đổi gần nhất", "Last change";
    admin_pages_label => "Trang", "Pages";
    admin_first_page => "Trang đầu", "First page";
    admin_next_page => "Trang sau", "Next page";
    admin_verify_now => "Kiểm tra ngay", "Verify now";
    admin_connect_link_heading => "Liên kết kết nối", "Connect link";
    admin_connect_link_hint => "Gửi liên kết này cho chủ cửa hàng: sau khi đăng nhập, họ bấm \"Kết nối Zalo\" để bắt đầu.", "Send this link to the shop owner: after logging in they press \"Connect Zalo\" to start.";
    admin_copy => "Sao chép", "Copy";
    admin_created => "Ngày tạo", "Created";
    csv_shop_id => "Mã cửa hàng", "Shop id";
    csv_owner => "Chủ cửa hàng", "Owner";
    csv_state => "Trạng thái", "State";
    flash_verified => "Khoá cửa hàng vẫn hoạt động. Đã cập nhật thời gian kiểm tra.", "The shop key works. The verification time is updated.";
    flash_verify_needs_reauth => "ITS không còn chấp nhận khoá này: cửa hàng cần đăng nhập lại.", "ITS no longer accepts this key: the shop needs to log in again.";
    flash_verify_no_key => "Cửa hàng chưa có khoá để kiểm tra.", "The shop has no key to verify.";
    flash_verify_its_trouble => "ITS chưa trả lời được; trạng thái giữ nguyên. Hãy thử lại sau.", "ITS could not answer; nothing changed. Try again later.";
    event_verified => "Kiểm tra lại: khoá hoạt động", "Re-checked: the key works";
    event_key_rejected => "ITS từ chối khoá (401): cần đăng nhập lại", "ITS refused the key (401): re-auth needed";
    error_search_invalid => "Từ khoá tìm kiếm quá dài hoặc chứa ký tự không hợp lệ.", "The search text is too long or has invalid characters.";

    // Admin: users
    admin_users_title => "Người dùng", "Users";
    users_add => "Thêm người dùng", "Add a user";
    users_new_title => "Thêm người dùng", "Add a user";
    users_search_placeholder => "Email hoặc họ tên", "Email or name";
    users_empty => "Không có người dùng nào khớp.", "No user matches.";
    users_col_shops => "Số cửa hàng", "Shops";
    users_col_status => "Tình trạng", "Status";
    users_col_created => "Ngày tạo", "Created";
    users_back => "Tất cả người dùng", "All users";
    field_name => "Họ tên", "Name";
    field_role => "Vai trò", "Role";
    field_new_password => "Mật khẩu mới", "New password";
    password_hint => "Ít nhất 10 ký tự. Gửi mật khẩu cho người dùng qua một kênh an toàn.", "At least 10 characters. Give it to the user over a safe channel.";
    role_admin => "Quản trị viên", "Administrator";
    role_owner => "Chủ cửa hàng", "Shop owner";
    user_status_active => "Đang hoạt động", "Active";
    user_status_disabled => "Đã khoá", "Disabled";
    user_you => "(bạn)", "(you)";
    user_create_button => "Tạo người dùng", "Create the user";
    user_title => "Người dùng", "User";
    user_disabled_since => "Đã khoá từ {}", "Disabled since {}";
    user_see_shops => "Xem cửa hàng của người này", "See this user's shops";
    user_self_note => "Đây là tài khoản của bạn: bạn không thể tự khoá nó.", "This is your own account: you cannot disable it.";
    user_account_heading => "Tài khoản", "Account";
    user_disable => "Khoá tài khoản", "Disable the account";
    user_enable => "Mở khoá tài khoản", "Enable the account";
    user_disable_title => "Khoá tài khoản này?", "Disable this account?";
    user_disable_warning => "Người dùng sẽ bị đăng xuất ngay trên mọi thiết bị và không đăng nhập được nữa cho tới khi được mở khoá. Cửa hàng và kết nối của họ vẫn giữ nguyên.", "The user is logged out at once on every device and cannot log in until the account is enabled again. Their shops and connections stay as they are.";
    user_disable_confirm => "Có, khoá tài khoản", "Yes, disable it";
    user_sessions_heading => "Phiên đăng nhập đang mở", "Live sessions";
    user_sessions_empty => "Không có phiên đăng nhập nào đang mở.", "No live session.";
    session_created => "Đăng nhập lúc", "Logged in";
    session_last_seen => "Hoạt động gần nhất", "Last seen";
    session_current => "Phiên bạn đang dùng", "Your current session";
    user_end_sessions => "Đăng xuất mọi phiên", "End all sessions";
    user_end_sessions_title => "Đăng xuất người dùng này khỏi mọi thiết bị?", "End all of this user's sessions?";
    user_end_sessions_warning => "Mọi phiên đăng nhập của người dùng kết thúc ngay; họ cần đăng nhập lại. Nếu đây là tài khoản của bạn, phiên bạn đang dùng được giữ lại.", "Every session of the user ends at once; they must log in again. If this is your own account, the session you are using now is kept.";
    user_end_sessions_confirm => "Có, đăng xuất mọi phiên", "Yes, end all sessions";
    user_reset_password_heading => "Đặt lại mật khẩu", "Reset the password";
    user_reset_password_hint => "Mật khẩu cũ hết hiệu lực và mọi phiên đăng nhập của người dùng kết thúc ngay.", "The old password stops working and every session of the user ends at once.";
    user_reset_password_confirm => "Tôi hiểu rằng người dùng sẽ bị đăng xuất khỏi mọi thiết bị", "I understand the user will be logged out everywhere";
    user_reset_password_button => "Đặt mật khẩu mới", "Set the new password";
    error_email_taken => "Email này đã có tài khoản. Hãy dùng email khác hoặc mở tài khoản đó trong danh sách.", "This email already has an account. Use another email or open that account from the list.";
    error_user_name_too_long => "Họ tên dài quá 200 ký tự.", "The name is longer than 200 characters.";
    error_confirm_required => "Hãy đánh dấu ô xác nhận để tiếp tục.", "Tick the confirmation box to go on.";
    error_cannot_disable_self => "Bạn không thể tự khoá tài khoản của mình.", "You cannot disable your own account.";
    flash_user_created => "Đã tạo người dùng. Họ có thể đăng nhập ngay bằng mật khẩu bạn đặt.", "User created. They can log in now with the password you set.";
    flash_user_disabled => "Đã khoá tài khoản; mọi phiên đăng nhập của người dùng đã kết thúc.", "Account disabled; every session of the user has ended.";
    flash_user_enabled => "Đã mở khoá tài khoản; người dùng có thể đăng nhập lại.", "Account enabled; the user can log in again.";
    flash_password_reset => "Đã đặt mật khẩu mới; các phiên đăng nhập cũ đã kết thúc.", "New password set; the old sessions have ended.";
    flash_sessions_ended => "Đã kết thúc các phiên đăng nhập của người dùng.", "The user's sessions have ended.";

    // Admin: settings
    settings_title => "Cài đặt", "Settings";
    settings_its_heading => "Kết nối với ITS", "Connection to ITS";
    settings_mode => "Chế độ", "Mode";
    settings_mode_sandbox => "Sandbox: ITS giả lập chạy trên máy này", "Sandbox: a simulated ITS on this machine";
    settings_mode_production => "Production: ITS thật", "Production: the real ITS";
    settings_base_url => "Địa chỉ API", "API base URL";
    settings_api_key => "Khoá API đối tác", "Partner API key";
    settings_api_key_hint => "Chỉ hiển thị vài ký tự cuối; khoá đầy đủ không bao giờ được gửi tới trình duyệt.", "Only the last characters are shown; the full key never reaches a browser.";
    settings_test => "Kiểm tra thông tin đăng nhập", "Test credentials";
    settings_test_hint => "Gọi ITS (Misc/CurrentAccount) bằng khoá API hiện tại để xem ITS có chấp nhận không.", "Calls ITS (Misc/CurrentAccount) with the current API key to see whether ITS accepts it.";
    settings_test_ok => "ITS chấp nhận khoá API. Tài khoản đối tác: {}", "ITS accepts the API key. Partner account: {}";
    settings_test_failed => "Kiểm tra không thành công:", "The test failed:";
    settings_verify_heading => "Kiểm tra lại khoá cửa hàng", "Re-checking shop keys";
    settings_concurrency => "Số cửa hàng kiểm tra cùng lúc", "Shops checked at once";
    settings_interval => "Mỗi cửa hàng được kiểm tra lại sau", "Each shop is re-checked after";
    settings_tick => "Bộ lập lịch chạy mỗi", "The scheduler runs every";
    settings_off => "Tắt", "Off";
    settings_env_hint => "Các giá trị trên được đặt bằng biến môi trường (xem .env.example); thay đổi có hiệu lực sau khi khởi động lại ứng dụng.", "These values come from environment variables (see .env.example); a change takes effect when the app restarts.";
    duration_day => "1 ngày", "1 day";
    duration_days => "{} ngày", "{} days";
    duration_hour => "1 giờ", "1 hour";
    duration_hours => "{} giờ", "{} hours";
    duration_minute => "1 phút", "1 minute";
    duration_minutes => "{} phút", "{} minutes";
    duration_second => "1 giây", "1 second";
    duration_seconds => "{} giây", "{} seconds";

    // Admin: bulk and scheduled verification
    jobs_title => "Kiểm tra lại hàng loạt", "Bulk re-verification";
    jobs_explainer => "Hỏi lại ITS về khoá của mọi cửa hàng đang kết nối hoặc cần đăng nhập lại. Kết quả của từng cửa hàng được ghi vào lịch sử của cửa hàng đó.", "Asks ITS again about the key of every shop that is connected or needs re-auth. Each shop's result is written to its history.";
    jobs_start => "Kiểm tra tất cả cửa hàng đã kết nối", "Verify all connected shops";
    jobs_cancel => "Dừng lượt kiểm tra", "Cancel the job";
    jobs_latest_heading => "Lượt kiểm tra gần nhất", "Latest run";
    jobs_none => "Chưa có lượt kiểm tra hàng loạt nào.", "No bulk verification has run yet.";
    jobs_done_label => "Đã kiểm tra", "Checked";
    jobs_total_label => "Tổng số", "Total";
    jobs_failures_label => "Không đạt", "Failures";
    jobs_progress_label => "Tiến độ", "Progress";
    jobs_state_label => "Trạng thái", "State";
    jobs_state_running => "Đang chạy", "Running";
    jobs_state_finished => "Đã xong", "Finished";
    jobs_state_cancelled => "Đã dừng theo yêu cầu", "Cancelled";
    jobs_state_interrupted => "Bị gián đoạn vì ứng dụng khởi động lại", "Interrupted: the app restarted";
    jobs_cancelling => "Đang dừng…", "Stopping…";
    jobs_started_by => "Người bắt đầu", "Started by";
    jobs_started_at => "Bắt đầu lúc", "Started";
    jobs_ended_at => "Kết thúc lúc", "Ended";
    jobs_refresh => "Tải lại trang để xem tiến độ mới nhất", "Reload to see the latest progress";
    jobs_history_heading => "Các lượt trước", "Earlier runs";
    jobs_failures_hint => "Xem các cửa hàng cần đăng nhập lại", "See the shops that need re-auth";
    jobs_schedule_heading => "Kiểm tra định kỳ", "Scheduled re-verification";
    jobs_schedule_explainer => "Hệ thống tự kiểm tra lại mỗi cửa hàng đã kết nối sau {}, rải đều theo thời gian, nhiều nhất {} cửa hàng cùng lúc.", "The system re-checks each connected shop after {}, spread out over time, at most {} shops at once.";
    jobs_schedule_off => "Kiểm tra định kỳ đang tắt (VERIFY_INTERVAL_SECS=0).", "Scheduled re-verification is off (VERIFY_INTERVAL_SECS=0).";
    jobs_due_now => "Cửa hàng đang đến hạn kiểm tra", "Shops due for a check now";
    actor_job => "Kiểm tra hàng loạt", "Bulk verification";
    flash_job_started => "Đã bắt đầu kiểm tra {} cửa hàng.", "Started checking {} shops.";
    flash_job_cancel_requested => "Đã yêu cầu dừng: lượt kiểm tra dừng sau khi xong các cửa hàng đang kiểm tra dở.", "Stop requested: the job stops once the shops being checked right now are done.";
    flash_job_not_running => "Lượt kiểm tra này đã kết thúc rồi.", "This job has already ended.";
    error_job_already_running => "Đang có một lượt kiểm tra hàng loạt chạy. Hãy đợi nó xong hoặc dừng nó trước khi bắt đầu lượt mới.", "A bulk verification is already running. Wait for it to finish, or cancel it, before starting another.";
});
