<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>设置页面</translation>
    </message>
    <message>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>Local API</source>
        <translation>本地 API</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>Dialog buttons</source>
        <translation>对话框按钮</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>English</source>
        <translation>English</translation>
    </message>
    <message>
        <source>简体中文</source>
        <translation>简体中文</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>Takes effect when Glassbox restarts.</source>
        <translation>重启 Glassbox 后生效。</translation>
    </message>
    <message>
        <source>Language note</source>
        <translation>语言说明</translation>
    </message>
    <message>
        <source>Restart now</source>
        <translation>立即重启</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>&amp;Theme:</source>
        <translation>主题(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;Local model (on this computer)</source>
        <translation>本地模型（在这台电脑上）(&amp;L)</translation>
    </message>
    <message>
        <source>Local model</source>
        <translation>本地模型</translation>
    </message>
    <message>
        <source>&amp;OpenAI-compatible server</source>
        <translation>OpenAI 兼容服务器(&amp;O)</translation>
    </message>
    <message>
        <source>OpenAI-compatible server</source>
        <translation>OpenAI 兼容服务器</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <source>Server &amp;address:</source>
        <translation>服务器地址(&amp;A)：</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API 密钥(&amp;K)：</translation>
    </message>
    <message>
        <source>The key is stored in Glassbox&apos;s settings file, readable only by you (permissions 0600).</source>
        <translation>密钥保存在 Glassbox 的设置文件中，只有您可以读取（权限 0600）。</translation>
    </message>
    <message>
        <source>API key storage</source>
        <translation>API 密钥的存储</translation>
    </message>
    <message>
        <source>Model on the server</source>
        <translation>服务器上的模型</translation>
    </message>
    <message>
        <source>List &amp;models</source>
        <translation>列出模型(&amp;M)</translation>
    </message>
    <message>
        <source>List models</source>
        <translation>列出模型</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>&amp;Test connection</source>
        <translation>测试连接(&amp;T)</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <source>Connection status</source>
        <translation>连接状态</translation>
    </message>
    <message>
        <source>&amp;Serve the model as an OpenAI-compatible API</source>
        <translation>以 OpenAI 兼容 API 提供模型服务(&amp;S)</translation>
    </message>
    <message>
        <source>Serve the API</source>
        <translation>提供 API 服务</translation>
    </message>
    <message>
        <source>API port</source>
        <translation>API 端口</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>端口(&amp;P)：</translation>
    </message>
    <message>
        <source>Allow &amp;other computers to connect</source>
        <translation>允许其他电脑连接(&amp;O)</translation>
    </message>
    <message>
        <source>Allow other computers</source>
        <translation>允许其他电脑</translation>
    </message>
    <message>
        <source>Off: only programs on this computer can connect (loopback).</source>
        <translation>关闭时：只有这台电脑上的程序可以连接（回环地址）。</translation>
    </message>
    <message>
        <source>API token</source>
        <translation>API 令牌</translation>
    </message>
    <message>
        <source>empty: the token kept in the data folder (api-token)</source>
        <translation>留空：使用数据文件夹中保存的令牌（api-token）</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>生成(&amp;G)</translation>
    </message>
    <message>
        <source>Generate a token</source>
        <translation>生成令牌</translation>
    </message>
    <message>
        <source>T&amp;oken:</source>
        <translation>令牌(&amp;O)：</translation>
    </message>
    <message>
        <source>API address</source>
        <translation>API 地址</translation>
    </message>
    <message>
        <source>Address:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <source>API status</source>
        <translation>API 状态</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>状态：</translation>
    </message>
    <message>
        <source>Not available in this window.</source>
        <translation>此窗口中不可用。</translation>
    </message>
    <message>
        <source>other computers can connect</source>
        <translation>其他电脑可以连接</translation>
    </message>
    <message>
        <source>this computer only</source>
        <translation>仅限这台电脑</translation>
    </message>
    <message>
        <source>Running ({where}).</source>
        <translation>正在运行（{where}）。</translation>
    </message>
    <message>
        <source>Off.</source>
        <translation>已关闭。</translation>
    </message>
    <message>
        <source>Give the server&apos;s address first.</source>
        <translation>请先填写服务器地址。</translation>
    </message>
    <message>
        <source>Switching to the server…</source>
        <translation>正在切换到服务器…</translation>
    </message>
    <message>
        <source>Connected: replies come from {model} on the server.</source>
        <translation>已连接：回复来自服务器上的 {model}。</translation>
    </message>
    <message>
        <source>Using the local model {name}.</source>
        <translation>正在使用本地模型 {name}。</translation>
    </message>
    <message>
        <source>Give a token (or generate one) before allowing other computers.</source>
        <translation>允许其他电脑连接之前，请填写（或生成）一个令牌。</translation>
    </message>
    <message>
        <source>Switching to the local model…</source>
        <translation>正在切换到本地模型…</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>Connected: {n} models, {ms} ms</source>
        <translation>已连接：{n} 个模型，{ms} 毫秒</translation>
    </message>
</context>
</TS>
