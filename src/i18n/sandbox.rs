//! Strings of the built-in ITS sandbox's own pages (the fake provider's login/approve page
//! and its shop list). Kept apart from the app's so the sandbox shares nothing else with it.
//!
//! The `api_*` entries are the `msg` of the sandbox's JSON answers. Like the real provider,
//! the API always answers in Vietnamese; the English text is kept beside it for readers.

super::catalogue!(SandboxMessages / SandboxMsgKey {
    sandbox_title => "ITS sandbox", "ITS sandbox";
    sandbox_badge => "Môi trường thử nghiệm (sandbox), không phải ITS thật", "Test environment (sandbox), not the real ITS";
    sandbox_notice => "Trang này giả lập trang đăng nhập của ITS để thử nghiệm trên một máy. Không cần và không được nhập mật khẩu thật.", "This page imitates the ITS login page for testing on one machine. No real password is needed; do not enter one.";
    lang_switch => "English", "Tiếng Việt";
    partner_label => "Đối tác", "Partner";
    shops_link => "Danh sách cửa hàng", "Shop list";
    empty_value => "—", "—";

    login_title => "Đăng nhập và cấp quyền", "Log in and grant access";
    login_intro => "{} muốn kết nối với cửa hàng của bạn trên ITS để gửi thông báo Zalo ZNS và dùng tổng đài thay mặt bạn.", "{} wants to connect to your shop on ITS to send Zalo ZNS notifications and run the call centre on your behalf.";
    login_known_shop => "Cửa hàng của bạn trên ITS", "Your shop on ITS";
    login_contact_hint => "Nhập email hoặc số điện thoại (ít nhất một). Nếu đã có cửa hàng với email hoặc số điện thoại này, cửa hàng đó sẽ được dùng lại.", "Enter an email address or a phone number (at least one). A shop that already has this email address or phone number is reused.";
    field_shop_id => "Mã cửa hàng", "Shop id";
    field_shop_name => "Tên cửa hàng", "Shop name";
    field_name => "Họ và tên", "Your name";
    field_email => "Email", "Email";
    field_phone => "Số điện thoại", "Phone number";
    action_approve => "Đồng ý và kết nối", "Approve and connect";
    action_cancel => "Huỷ", "Cancel";

    cancelled_title => "Đã huỷ kết nối", "Connection cancelled";
    cancelled_text => "Bạn đã không cấp quyền cho {}. Cửa hàng chưa được kết nối.", "You did not grant access to {}. The shop is not connected.";
    cancelled_back_to_login => "Quay lại trang cấp quyền", "Back to the approval page";
    back_to_partner => "Quay lại trang của {}", "Back to {}";
    approved_title => "Đã kết nối", "Connected";
    approved_text => "Cửa hàng {} đã được kết nối với {}. Bạn có thể đóng trang này.", "The shop {} is now connected to {}. You can close this page.";

    error_title => "Không thể tiếp tục", "Cannot continue";
    error_token_invalid => "Đường dẫn đăng nhập không hợp lệ, đã hết hạn hoặc đã được sử dụng. Vui lòng quay lại trang của đối tác và thử lại.", "This login link is not valid, has expired or has already been used. Please go back to the partner's site and try again.";
    error_account_closed => "Tài khoản của cửa hàng này đã bị đóng trên ITS.", "This shop's account is closed on ITS.";
    error_shop_missing => "Không tìm thấy cửa hàng.", "Shop not found.";
    error_contact_required => "Vui lòng nhập email hoặc số điện thoại.", "Please enter an email address or a phone number.";
    error_email_invalid => "Địa chỉ email không hợp lệ.", "The email address is not valid.";
    error_phone_invalid => "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).", "The phone number is not valid (e.g. 0912 345 678).";
    error_shop_name_empty => "Vui lòng nhập tên cửa hàng.", "Please enter the shop name.";
    error_shop_name_too_long => "Tên cửa hàng dài quá 200 ký tự.", "The shop name is longer than 200 characters.";
    error_text_control_chars => "Nội dung chứa ký tự điều khiển không được phép.", "The text contains control characters that are not allowed.";
    error_name_invalid => "Họ và tên dài quá 200 ký tự hoặc chứa ký tự không được phép.", "The name is longer than 200 characters or contains characters that are not allowed.";
    error_bad_form => "Dữ liệu gửi lên không hợp lệ.", "The submitted form is not valid.";
    error_bad_origin => "Yêu cầu đến từ một trang khác nên đã bị từ chối.", "The request came from another site and was refused.";
    error_not_found => "Không tìm thấy trang.", "Page not found.";
    error_internal => "Sandbox gặp lỗi. Vui lòng xem nhật ký của máy chủ.", "The sandbox ran into an error. Please see the server log.";
    error_faults_invalid => "Độ trễ phải là số nguyên từ 0 đến 60000 ms và tỉ lệ lỗi phải từ 0 đến 100%.", "The latency must be a whole number from 0 to 60000 ms and the failure rate from 0 to 100%.";

    shops_title => "Cửa hàng trong sandbox", "Sandbox shops";
    shops_intro => "Mọi cửa hàng đã đăng nhập qua sandbox. Dùng các nút để giả lập việc cửa hàng gỡ liên kết với đối tác hoặc bị đóng tài khoản.", "Every shop that logged in through the sandbox. Use the buttons to simulate a shop removing its link with the partner or its account being closed.";
    shops_empty => "Chưa có cửa hàng nào. Hãy kết nối một cửa hàng từ ứng dụng.", "No shops yet. Connect a shop from the app.";
    shops_truncated => "Chỉ hiển thị {} cửa hàng mới nhất.", "Only the {} newest shops are shown.";
    col_id => "Mã", "Id";
    col_name => "Tên cửa hàng", "Shop name";
    col_email => "Email", "Email";
    col_phone => "Điện thoại", "Phone";
    col_link => "Liên kết", "Link";
    col_account => "Tài khoản", "Account";
    col_actions => "Thao tác", "Actions";
    status_linked => "Đã liên kết", "Linked";
    status_unlinked => "Đã gỡ liên kết", "Unlinked";
    status_open => "Đang hoạt động", "Open";
    status_closed => "Đã đóng", "Closed";
    action_unlink => "Gỡ liên kết", "Unlink";
    action_close => "Đóng tài khoản", "Close account";
    action_reopen => "Mở lại tài khoản", "Reopen account";

    faults_title => "Giả lập sự cố API", "API fault injection";
    faults_intro => "Áp dụng cho mọi lời gọi API, không áp dụng cho các trang này. Lỗi được trả về là 503 unavailable.", "Applies to every API call, not to these pages. Failures are answered 503 unavailable.";
    faults_current => "Hiện tại: trễ {} ms, tỉ lệ lỗi {}%.", "Now: {} ms latency, {}% failures.";
    field_latency => "Độ trễ (ms)", "Latency (ms)";
    field_failure_rate => "Tỉ lệ lỗi (%)", "Failure rate (%)";
    action_save_faults => "Lưu", "Save";

    zalo_link => "Zalo OA trong sandbox", "Sandbox Zalo OAs";
    zalo_title => "Zalo OA trong sandbox", "Sandbox Zalo OAs";
    zalo_intro => "Mỗi cửa hàng có hai OA giả lập: một OA sẵn sàng gửi ZNS và một OA chưa mua gói OA trả phí. OA được tạo khi cửa hàng xin cấp quyền lần đầu (Zalo/AuthorizeOA). Dùng các nút để thử các tình huống: chất lượng gửi thấp, hết hạn mức, hết hạn uỷ quyền, sai app secret.", "Every shop has two simulated OAs: one ready to send ZNS and one without a paid OA package. The OAs are created when the shop first asks for a grant (Zalo/AuthorizeOA). Use the buttons to try the cases: low delivery quality, quota used up, expired authorisation, wrong app secret.";
    zalo_fake_host => "Trang cấp quyền Zalo giả lập", "Simulated Zalo permission page";
    zalo_phone_link => "Điện thoại thử nghiệm (tin ZNS đã gửi)", "Test phone (ZNS messages sent)";
    zalo_oas_empty => "Chưa có OA nào. Hãy bấm \"Kết nối Zalo OA\" trong ứng dụng.", "No OAs yet. Press \"Connect Zalo OA\" in the app.";
    zalo_col_oa => "OA", "OA";
    zalo_col_shop => "Cửa hàng", "Shop";
    zalo_col_package => "Gói OA", "OA package";
    zalo_col_connection => "Kết nối", "Connection";
    zalo_col_quota => "Hạn mức hôm nay", "Quota today";
    zalo_col_quality => "Chất lượng (48 giờ / 7 ngày)", "Quality (48 h / 7 days)";
    zalo_col_expires => "Hết hạn uỷ quyền", "Authorisation expires";
    zalo_package_yes => "Có gói trả phí", "Paid package";
    zalo_package_no => "Chưa có gói", "No package";
    zalo_status_p => "Đã kết nối (P)", "Connected (P)";
    zalo_status_n => "Đã ngắt kết nối (N)", "Disconnected (N)";
    zalo_status_z => "Mới (Z)", "New (Z)";
    zalo_status_none => "Chưa kết nối với ITS", "Not connected to ITS";
    zalo_quota_value => "còn {} / {}", "{} of {} left";
    zalo_expired => "đã hết hạn", "expired";
    zalo_field_current_quality => "Chất lượng 48 giờ", "Quality, 48 hours";
    zalo_field_last_week_quality => "Chất lượng 7 ngày", "Quality, 7 days";
    zalo_action_set_quality => "Đặt chất lượng", "Set quality";
    zalo_action_exhaust => "Dùng hết hạn mức", "Use up the quota";
    zalo_action_refill => "Nạp lại hạn mức", "Refill the quota";
    zalo_action_expire_soon => "Sắp hết hạn (5 ngày)", "Expires soon (5 days)";
    zalo_action_expire => "Hết hạn ngay", "Expire now";
    zalo_action_disconnect => "Ngắt kết nối", "Disconnect";
    zalo_apps_title => "Ứng dụng Zalo", "Zalo apps";
    zalo_apps_intro => "Một ứng dụng được ghi nhận với app secret của lần gọi Zalo/AuthorizeOA đầu tiên. \"Làm sai app secret\" giả lập việc secret đã bị đổi trên trang Zalo for Developers.", "An app is registered with the app secret of its first Zalo/AuthorizeOA call. \"Make the secret wrong\" simulates the secret having been reset on Zalo for Developers.";
    zalo_apps_empty => "Chưa có ứng dụng nào.", "No apps yet.";
    zalo_col_app => "App ID", "App ID";
    zalo_col_secret => "App secret", "App secret";
    zalo_secret_ok => "Đúng", "Accepted";
    zalo_secret_wrong => "Bị từ chối", "Refused";
    zalo_action_reject_secret => "Làm sai app secret", "Make the secret wrong";
    zalo_action_accept_secret => "Khôi phục app secret", "Restore the secret";
    zalo_error_action_invalid => "Thao tác hoặc giá trị không hợp lệ.", "The action or a value is not valid.";
    zalo_error_oa_missing => "Không tìm thấy OA.", "OA not found.";
    zalo_error_app_missing => "Không tìm thấy ứng dụng.", "App not found.";

    zalo_permission_title => "Cấp quyền cho ứng dụng quản lý Official Account", "Allow the app to manage an Official Account";
    zalo_permission_brand => "Zalo (giả lập)", "Zalo (simulated)";
    zalo_permission_notice => "Đây là trang Zalo giả lập của sandbox: không cần đăng nhập Zalo thật.", "This is the sandbox's simulated Zalo page: no real Zalo login is needed.";
    zalo_permission_intro => "Ứng dụng {} muốn quản lý Official Account của bạn: gửi thông báo ZNS và nhận sự kiện qua webhook. Chọn OA rồi bấm \"Cho phép\".", "The app {} wants to manage your Official Account: send ZNS notifications and receive webhook events. Pick the OA, then press \"Allow\".";
    zalo_permission_pick => "Chọn Official Account", "Choose the Official Account";
    zalo_permission_verified => "Đã xác thực", "Verified";
    zalo_permission_no_package => "Chưa có gói OA trả phí: chưa gửi được ZNS", "No paid OA package: cannot send ZNS yet";
    zalo_action_allow => "Cho phép", "Allow";
    zalo_action_deny => "Từ chối", "Deny";
    zalo_error_grant_invalid => "Yêu cầu cấp quyền không hợp lệ, đã hết hạn hoặc đã được dùng. Vui lòng quay lại ứng dụng và thử lại.", "This permission request is not valid, has expired or has already been used. Please go back to the app and try again.";
    zalo_error_pick_oa => "Vui lòng chọn một Official Account.", "Please choose an Official Account.";

    zalo_phone_title => "Điện thoại thử nghiệm", "Test phone";
    zalo_phone_intro => "Tin ZNS gửi qua sandbox hiện ở đây, mới nhất trước, đúng như người nhận thấy trên Zalo. Tin gửi ở chế độ development chỉ đến quản trị viên của ứng dụng hoặc của OA.", "ZNS messages sent through the sandbox appear here, newest first, as the recipient sees them on Zalo. Messages sent in development mode only reach the app's or the OA's admin.";
    zalo_phone_empty => "Chưa có tin nhắn nào.", "No messages yet.";
    zalo_phone_to => "Đến {}", "To {}";
    zalo_phone_development => "Tin thử (development)", "Test message (development)";

    api_ok => "Thành công", "Success";
    api_shop_request => "Cửa hàng cần đăng nhập để cấp quyền cho đối tác", "The shop must log in to grant access to the partner";
    api_shop_key => "Cửa hàng đã được kết nối với đối tác", "The shop is connected to the partner";
    api_bad_route => "Không tìm thấy API. Vui lòng kiểm tra lại path và header Content-Type: application/json.", "No such API. Please check the path and the header Content-Type: application/json.";
    api_invalid_json => "Yêu cầu không hợp lệ", "Invalid request";
    api_body_too_large => "Yêu cầu quá lớn", "The request is too large";
    api_field_invalid => "Giá trị của trường {} không hợp lệ", "The value of the field {} is not valid";
    api_unauthenticated => "Vui lòng kiểm tra lại request đã bao gồm header Authorization: Bearer <api_key> đúng", "Please check that the request carries the right header Authorization: Bearer <api_key>";
    api_shop_key_invalid => "Khoá của cửa hàng không hợp lệ hoặc đã bị thu hồi", "The shop key is not valid or has been revoked";
    api_shop_id_with_external => "Không được gửi shop_id cùng với external_shop_id", "shop_id must not be sent together with external_shop_id";
    api_shop_id_with_contact => "Không được gửi shop_id cùng với email hoặc số điện thoại", "shop_id must not be sent together with an email or a phone number";
    api_email_invalid => "Giá trị email không hợp lệ", "The email value is not valid";
    api_phone_invalid => "Giá trị phone không hợp lệ", "The phone value is not valid";
    api_external_shop_id_invalid => "Giá trị external_shop_id không hợp lệ", "The external_shop_id value is not valid";
    api_external_user_id_removed => "external_user_id is removed", "external_user_id is removed";
    api_redirect_not_registered => "Địa chỉ url cần được đăng ký trước", "The url must be registered first";
    api_redirect_invalid => "redirect_url không hợp lệ hoặc chưa được đăng ký với ITS", "redirect_url is not valid or is not registered with ITS";
    api_permission_denied => "Shop chưa bao giờ đăng nhập vào ITS thông qua hệ thống của đối tác. Hãy thử lại với request mà không bao gồm shop_id.", "The shop never logged in to ITS through the partner. Try again without shop_id.";
    api_account_closed => "Tài khoản đã bị đóng", "The account is closed";
    api_unavailable => "Hệ thống đang bận, vui lòng thử lại sau", "The service is busy, please try again later";
    api_internal => "Lỗi hệ thống, vui lòng thử lại sau", "Internal error, please try again later";

    api_zalo_app_secret_wrong => "app_secret không đúng với ứng dụng Zalo (app_id)", "app_secret does not match the Zalo app (app_id)";
    api_zalo_redirect_invalid => "redirect_uri không hợp lệ hoặc chưa được đăng ký làm Official Account Callback Url của ứng dụng", "redirect_uri is not valid or is not registered as the app's Official Account Callback Url";
    api_zalo_state_invalid => "state không hợp lệ hoặc đã hết hạn", "state is not valid or has expired";
    api_zalo_code_invalid => "code không hợp lệ, đã hết hạn hoặc đã được sử dụng", "code is not valid, has expired or has already been used";
    api_zalo_oa_mismatch => "oa_id không khớp với OA đã được cấp quyền", "oa_id does not match the OA that was granted";
    api_zalo_no_package => "OA chưa đăng ký gói dịch vụ OA trả phí nên không thể dùng ZNS", "The OA has no paid OA package, so it cannot use ZNS";
    api_zalo_oa_not_found => "Không tìm thấy OA đã kết nối với cửa hàng", "No OA connected to the shop has this id";
    api_zalo_oa_disconnected => "OA đã bị ngắt kết nối, vui lòng kết nối lại", "The OA is disconnected, please connect it again";
    api_zalo_oa_expired => "Quyền truy cập OA đã hết hạn, vui lòng cấp quyền lại", "The OA's authorisation has expired, please grant it again";
    api_zalo_quota_exhausted => "OA đã dùng hết hạn mức gửi ZNS trong ngày", "The OA has used up today's ZNS quota";
    api_zalo_template_invalid => "Không tìm thấy mẫu ZNS hoặc mẫu chưa được duyệt", "No such ZNS template, or it is not approved";
    api_zalo_param_missing => "Thiếu tham số {} của mẫu ZNS", "The ZNS template parameter {} is missing";
    api_zalo_param_invalid => "Tham số {} của mẫu ZNS không hợp lệ (độ dài hoặc kiểu dữ liệu)", "The ZNS template parameter {} is not valid (length or type)";
});
